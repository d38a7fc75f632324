package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

// config is the benchmark's configuration. Sizes and intervals left at zero come from the mode's
// preset, so `--mode full` alone reproduces the documented figures and any one size can be changed.
type config struct {
	Mode      string   `json:"mode"`
	Scenarios []string `json:"scenarios"`
	Dir       string   `json:"-"`
	Out       string   `json:"-"`
	Seed      uint64   `json:"seed"`
	Strict    bool     `json:"-"`

	// SSM workload (scenarios 1–4).
	Configs              int      `json:"ssmConfigs"`
	NamesPerConfig       int      `json:"namesPerConfig"`
	PoolSize             int      `json:"parameterPool"`
	RefreshInterval      duration `json:"refreshInterval"`
	UnrelatedSecrets     int      `json:"unrelatedSecrets"`
	UnrelatedSecretBytes int      `json:"unrelatedSecretBytes"`

	// The emulated SSM account and the operator's settings for it.
	SSMQuota       float64  `json:"ssmQuotaPerSecond"`
	SSMLatency     duration `json:"ssmLatency"`
	SSMRateLimit   float64  `json:"operatorSSMRateLimit"`
	SSMRateBurst   int      `json:"operatorSSMRateBurst"`
	SSMConcurrency int      `json:"operatorSSMConcurrency"`

	// IAM workload (scenario 5), the emulated IAM quota and the operator's settings for it.
	ServiceAccounts int      `json:"serviceAccounts"`
	PoliciesPerSA   int      `json:"policiesPerServiceAccount"`
	IAMQuota        float64  `json:"iamQuotaPerSecond"`
	IAMLatency      duration `json:"iamLatency"`
	IAMRateBurst    int      `json:"operatorIAMRateBurst"`
	IAMResyncPeriod duration `json:"iamResyncPeriod"`
}

// preset holds the sizes of a mode.
type preset struct {
	configs, unrelatedSecrets, serviceAccounts int
	refreshInterval, iamResyncPeriod           duration
}

// presets: quick fits CI's budget (a few minutes on 2 cores); full is issue 7's scale. Intervals
// are long enough that no periodic refresh or resync starts before the creation wave converged.
var presets = map[string]preset{
	"quick": {configs: 100, unrelatedSecrets: 2000, serviceAccounts: 30, refreshInterval: seconds(30), iamResyncPeriod: seconds(30)},
	"full":  {configs: 1000, unrelatedSecrets: 20000, serviceAccounts: 200, refreshInterval: seconds(120), iamResyncPeriod: seconds(180)},
}

// Scenario groups, each run on a control plane and emulator of its own.
const (
	groupSSM = "ssm"
	groupIAM = "iam"
)

func parseConfig(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	scenarios := fs.String("scenarios", groupSSM+","+groupIAM, `scenario groups to run: "ssm" (1–4), "iam" (5)`)
	fs.StringVar(&c.Mode, "mode", "quick", `"quick" (CI) or "full" (issue 7's sizes); sets every size flag left at 0`)
	fs.StringVar(&c.Dir, "dir", ".bench", "folder for the operator binary, kubeconfig and logs")
	fs.StringVar(&c.Out, "out", "bench-results.json", "JSON summary file")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the workload's random choices")
	fs.BoolVar(&c.Strict, "strict", false, "exit with status 1 when a target is missed")

	fs.IntVar(&c.Configs, "ssm-configs", 0, "SsmConfigs (quick 100, full 1000)")
	fs.IntVar(&c.NamesPerConfig, "names-per-config", 10, "parameter names per SsmConfig")
	fs.IntVar(&c.PoolSize, "parameter-pool", 0, "parameters the names are drawn from (default 3 × SsmConfigs, so several share each name)")
	durationVar(fs, &c.RefreshInterval, "refresh-interval", 0, "spec.refreshInterval of every SsmConfig (quick 30s, full 2m)")
	fs.IntVar(&c.UnrelatedSecrets, "unrelated-secrets", 0, "unlabelled Secrets added for scenario 4 (quick 2000, full 20000)")
	fs.IntVar(&c.UnrelatedSecretBytes, "unrelated-secret-bytes", 50<<10, "size of each unrelated Secret")

	fs.Float64Var(&c.SSMQuota, "ssm-quota", 40, "emulated account quota on SSM reads (GetParameter, GetParameters, GetParametersByPath share it), per second")
	durationVar(fs, &c.SSMLatency, "ssm-latency", 40*time.Millisecond, "emulated latency of every SSM call")
	fs.Float64Var(&c.SSMRateLimit, "ssm-rate-limit", 0, "operator's --ssm-rate-limit (default 95 % of --ssm-quota)")
	fs.IntVar(&c.SSMRateBurst, "ssm-rate-burst", 10, "operator's --ssm-rate-burst")
	fs.IntVar(&c.SSMConcurrency, "ssm-concurrency", 64, "operator's --ssm-concurrency (its default)")

	fs.IntVar(&c.ServiceAccounts, "service-accounts", 0, "annotated ServiceAccounts (quick 30, full 200)")
	fs.IntVar(&c.PoliciesPerSA, "policies-per-sa", 2, "managed policies attached to each role")
	fs.Float64Var(&c.IAMQuota, "iam-quota", 10, "emulated IAM quota, calls per second (also the operator's --iam-rate-limit)")
	durationVar(fs, &c.IAMLatency, "iam-latency", 100*time.Millisecond, "emulated latency of every IAM call")
	fs.IntVar(&c.IAMRateBurst, "iam-rate-burst", 5, "operator's --iam-rate-burst")
	durationVar(fs, &c.IAMResyncPeriod, "iam-resync-period", 0, "operator's --iam-resync-period (quick 30s, full 3m)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.Scenarios = strings.Split(*scenarios, ",")
	return c, c.complete()
}

// complete fills what was left at zero from the mode's preset and checks the rest.
func (c *config) complete() error {
	p, ok := presets[c.Mode]
	if !ok {
		return fmt.Errorf(`--mode must be "quick" or "full", got %q`, c.Mode)
	}
	fill(&c.Configs, p.configs)
	fill(&c.UnrelatedSecrets, p.unrelatedSecrets)
	fill(&c.ServiceAccounts, p.serviceAccounts)
	fill(&c.RefreshInterval, p.refreshInterval)
	fill(&c.IAMResyncPeriod, p.iamResyncPeriod)
	fill(&c.PoolSize, 3*c.Configs)
	// 95 %: the operator shares the account's quota with every other consumer, and two token
	// buckets (ours, the account's) never tick exactly together.
	fill(&c.SSMRateLimit, 0.95*c.SSMQuota)
	for _, s := range c.Scenarios {
		if s != groupSSM && s != groupIAM {
			return fmt.Errorf("--scenarios: unknown group %q", s)
		}
	}
	if c.NamesPerConfig < 1 || c.NamesPerConfig > c.PoolSize {
		return fmt.Errorf("--names-per-config must be between 1 and --parameter-pool (%d)", c.PoolSize)
	}
	return nil
}

func (c *config) runs(group string) bool { return slices.Contains(c.Scenarios, group) }

func fill[T comparable](field *T, preset T) {
	var zero T
	if *field == zero {
		*field = preset
	}
}

// duration is a time.Duration that is a flag value and reads "2m0s" in JSON.
type duration time.Duration

// durationVar registers a duration flag with its default.
func durationVar(fs *flag.FlagSet, d *duration, name string, value time.Duration, usage string) {
	*d = duration(value)
	fs.Var(d, name, usage)
}

func seconds(n int) duration { return duration(time.Duration(n) * time.Second) }

func (d *duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	*d = duration(v)
	return err
}

func (d duration) value() time.Duration { return time.Duration(d) }

func (d duration) String() string { return time.Duration(d).String() }

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }
