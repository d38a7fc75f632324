// Package operator wires the manager, the AWS clients and both controllers from one
// configuration, so main.go, the demo and the integration tests run the same assembly.
package operator

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/605-tv/k8s-aws-operator/internal/awsclient"
)

// EnvPrefix prefixes the environment variable of every flag: --cluster-name is
// K8S_AWS_OPERATOR_CLUSTER_NAME. OLM users set these through a Subscription's spec.config.env.
const EnvPrefix = "K8S_AWS_OPERATOR_"

// Config is everything the operator can be told at start.
type Config struct {
	MetricsAddr         string
	MetricsSecure       bool
	ProbeAddr           string
	LeaderElect         bool
	LeaderElectionID    string
	LeaderElectionNS    string
	GracefulShutdown    time.Duration
	SSMConcurrency      int
	IAMConcurrency      int
	SSMAllowedPaths     string
	IAMResyncPeriod     time.Duration
	ClusterName         string
	OIDCIssuer          string
	RolePath            string
	PolicyAllowList     string
	PolicyDenyList      string
	PermissionsBoundary string
	RequireBoundary     bool
	MaxPolicies         int
	AWS                 awsclient.Options
}

// DefaultPolicyDenyList names the managed policies no ServiceAccount may get, in every partition.
const DefaultPolicyDenyList = "arn:*:iam::aws:policy/AdministratorAccess,arn:*:iam::aws:policy/IAMFullAccess,arn:*:iam::aws:policy/PowerUserAccess"

// BindFlags registers the configuration's flags with their defaults.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.MetricsAddr, "metrics-bind-address", ":8443", `Address of the metrics endpoint; "0" disables it.`)
	fs.BoolVar(&c.MetricsSecure, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorized by the API server.")
	fs.StringVar(&c.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.BoolVar(&c.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles (the Deployment turns it on).")
	fs.StringVar(&c.LeaderElectionID, "leader-election-id", "k8s-aws-operator.aws.605.tv", "Name of the leader election Lease.")
	fs.StringVar(&c.LeaderElectionNS, "leader-election-namespace", "", "Namespace of the Lease (default: the operator's own).")
	fs.DurationVar(&c.GracefulShutdown, "graceful-shutdown-timeout", 30*time.Second, "How long running reconciles may finish on shutdown.")
	fs.IntVar(&c.SSMConcurrency, "ssm-concurrency", 64, "SsmConfigs reconciled in parallel; a reconcile mostly waits on the shared fetcher, and more of them waiting fills its batches of 10.")
	fs.IntVar(&c.IAMConcurrency, "iam-concurrency", 4, "ServiceAccounts reconciled in parallel.")
	fs.StringVar(&c.SSMAllowedPaths, "ssm-allowed-paths", "", `SSM name prefixes every namespace may read, comma separated, "{namespace}" is replaced by the namespace (e.g. "/apps/{namespace}/"). Empty: no restriction, unless a Namespace has the ssm.aws.605.tv/allowed-paths annotation.`)
	fs.DurationVar(&c.IAMResyncPeriod, "iam-resync-period", 10*time.Minute, "How often each managed IAM role is compared with its ServiceAccount (jittered).")
	fs.StringVar(&c.ClusterName, "cluster-name", "", "Cluster name used in IAM role names and tags; the IAM controller runs only when it is set.")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", "", "The cluster's service-account token issuer URL (default: discovered from the API server).")
	fs.StringVar(&c.RolePath, "role-path", "/k8s-aws-operator/", "IAM path of every role the operator creates; scope the operator's own IAM policy to it.")
	fs.StringVar(&c.PolicyAllowList, "policy-allow-list", "", "Managed policy ARN patterns (* and ?) a ServiceAccount may attach, comma separated; empty allows every policy not denied.")
	fs.StringVar(&c.PolicyDenyList, "policy-deny-list", DefaultPolicyDenyList, "Managed policy ARN patterns never attached; wins over the allow list.")
	fs.StringVar(&c.PermissionsBoundary, "permissions-boundary", "", "ARN of a managed policy set as permissions boundary on every role.")
	fs.BoolVar(&c.RequireBoundary, "require-permissions-boundary", false, "Refuse to run the IAM controller without --permissions-boundary.")
	fs.IntVar(&c.MaxPolicies, "max-policies-per-role", 10, "Managed policies per role (the account's IAM quota, 10 by default, up to 20).")
	fs.StringVar(&c.AWS.Region, "aws-region", "", "AWS region (default: the SDK's chain, e.g. AWS_REGION).")
	fs.IntVar(&c.AWS.MaxAttempts, "aws-max-attempts", 8, "Attempts per AWS call, retries with jittered backoff included.")
	fs.DurationVar(&c.AWS.MaxBackoff, "aws-max-backoff", 20*time.Second, "Longest backoff between retries of one AWS call.")
	fs.Float64Var(&c.AWS.SSMRate, "ssm-rate-limit", 20, "SSM calls per second for the whole operator (SSM's default account quota is 40).")
	fs.IntVar(&c.AWS.SSMBurst, "ssm-rate-burst", 10, "Burst of the SSM rate budget.")
	fs.Float64Var(&c.AWS.IAMRate, "iam-rate-limit", 10, "IAM and STS calls per second for the whole operator.")
	fs.IntVar(&c.AWS.IAMBurst, "iam-rate-burst", 5, "Burst of the IAM rate budget.")
}

// ApplyEnv sets every flag not given on the command line from its environment variable.
func ApplyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := EnvVar(f.Name)
		if value, ok := lookup(name); ok {
			if setErr := fs.Set(f.Name, value); setErr != nil {
				err = fmt.Errorf("environment variable %s: %w", name, setErr)
			}
		}
	})
	return err
}

// EnvVar is the environment variable that stands for a flag.
func EnvVar(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Validate reports configuration that cannot work, before anything starts.
func (c *Config) Validate() error {
	switch {
	case c.SSMConcurrency < 1 || c.IAMConcurrency < 1:
		return fmt.Errorf("--ssm-concurrency and --iam-concurrency must be at least 1")
	case c.MaxPolicies < 1 || c.MaxPolicies > 20:
		return fmt.Errorf("--max-policies-per-role must be between 1 and 20, got %d", c.MaxPolicies)
	case c.RequireBoundary && c.PermissionsBoundary == "":
		return fmt.Errorf("--require-permissions-boundary is set but --permissions-boundary is empty")
	case c.AWS.MaxAttempts < 1:
		return fmt.Errorf("--aws-max-attempts must be at least 1")
	}
	return nil
}

// ParseFlags parses args into a Config, with environment variables for flags not given.
func ParseFlags(fs *flag.FlagSet, args []string) (*Config, error) {
	cfg := &Config{}
	cfg.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := ApplyEnv(fs, os.LookupEnv); err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// SplitList splits a comma, space or newline separated list, dropping empty entries.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}
