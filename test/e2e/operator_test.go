package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	reconcileTimeout  = 90 * time.Second
	roleARNAnnotation = "eks.amazonaws.com/role-arn"
	// seedParameterPath holds the seed SsmConfig's parameters, named after their Secret keys.
	seedParameterPath = "/dev-qa/airflow/"
	// refreshingParameter is read by the SsmConfig the suite adds with a short refresh interval, to
	// see the operator keep reconciling across the upgrade.
	refreshingParameter = seedParameterPath + "FERNET_KEY"
)

var (
	seedSsmConfig       = client.ObjectKey{Namespace: "airflow", Name: "airflow"}
	refreshingSsmConfig = client.ObjectKey{Namespace: "airflow", Name: "airflow-refreshing"}
	seedServiceAccount  = client.ObjectKey{Namespace: "airflow", Name: "airflow-iam-serviceaccount"}
	// seedValues are the seed's SSM parameters, by the Secret key each becomes.
	seedValues = map[string]string{
		"AIRFLOW__SENTRY__CLIENT_SECRET": "e2e-sentry-client-secret",
		"FERNET_KEY":                     "e2e-fernet-key-v1",
	}
	// seedPolicies are the managed policies the seed's ServiceAccount asks for.
	seedPolicies = []string{
		"arn:aws:iam::" + seedAccount + ":policy/605-SSM-Dev-ReadOnly",
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
	}
)

// testOperatorReconciles runs the operator binary as OLM's Deployment would, with the identity OLM
// gave it, and checks it reconciles the seed: the RBAC OLM created is enough.
func (s *suite) testOperatorReconciles(t *testing.T) {
	s.seedAWS(t)
	s.startOperator(t)
	s.applySamples(t)
	s.create(t, &ssmv1alpha1.SsmConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: refreshingSsmConfig.Namespace, Name: refreshingSsmConfig.Name},
		Spec: ssmv1alpha1.SsmConfigSpec{
			SsmKeys:         []ssmv1alpha1.ParameterName{refreshingParameter},
			RefreshInterval: &metav1.Duration{Duration: 2 * time.Second},
		},
	})
	s.eventually(t, reconcileTimeout, "the seed's SsmConfig to be synced", s.secretHolds(seedSsmConfig, seedValues))
	s.eventually(t, reconcileTimeout, "the refreshing SsmConfig to be synced",
		s.secretHolds(refreshingSsmConfig, map[string]string{"FERNET_KEY": seedValues["FERNET_KEY"]}))
	s.eventually(t, reconcileTimeout, "the seed's ServiceAccount to get its IAM role", s.serviceAccountHasRole)
	s.requireNoDenials(t)
}

// requireNoDenials fails if the API server refused the operator anything: requests the reconciliations
// above do not wait for (events, the Lease, the caches' lists and watches) would only show in its log.
func (s *suite) requireNoDenials(t *testing.T) {
	t.Helper()
	if err := s.operatorDenials(); err != nil {
		t.Fatal(err)
	}
}

// operatorDenials is an error quoting the first refusals (Forbidden) in the running operator's log.
func (s *suite) operatorDenials() error {
	operator := s.running[managerName]
	if operator == nil {
		return errors.New("the operator is not running")
	}
	log, err := os.ReadFile(operator.LogPath)
	if err != nil {
		return err
	}
	var denials []string
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "forbidden") && len(denials) < 3 {
			denials = append(denials, line[:min(len(line), 400)])
		}
	}
	if len(denials) > 0 {
		return fmt.Errorf("the API server refused the operator:\n%s", strings.Join(denials, "\n"))
	}
	return nil
}

// seedAWS creates what the samples refer to, in the emulator: the seed's SSM parameters and customer
// policy.
func (s *suite) seedAWS(t *testing.T) {
	var parameters []awsemu.SeedParameter
	for key, value := range seedValues {
		parameters = append(parameters, awsemu.SeedParameter{Name: seedParameterPath + key, Value: value, Type: "SecureString"})
	}
	err := s.bed.Emulator.Seed(awsemu.Seed{
		Parameters: parameters,
		Policies: []awsemu.SeedPolicy{{Name: "605-SSM-Dev-ReadOnly", Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:*:` + seedAccount + `:parameter/dev-qa/*"}]}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startOperator (re)starts the operator binary as a new pod of OLM's Deployment would run: with the
// Deployment's arguments and environment and a token of its ServiceAccount, not admin credentials.
func (s *suite) startOperator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if old := s.running[managerName]; old != nil {
		s.stopProcess(old)
	}
	deployment := &appsv1.Deployment{}
	if err := s.admin.Get(ctx, client.ObjectKey{Namespace: installNamespace, Name: operatorName}, deployment); err != nil {
		t.Fatal(err)
	}
	container := deployment.Spec.Template.Spec.Containers[0]
	cfg, err := s.serviceAccountConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(s.dir, "operator.kubeconfig")
	if err := writeKubeconfig(cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.manager, localArgs(container.Args)...)
	cmd.Env = append(literalEnv(container.Env), "HOME="+s.dir, "KUBECONFIG="+kubeconfig)
	// The AWS credentials and endpoint the test bed set: the emulator's, as IRSA would give a pod.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	s.startProcess(t, managerName, cmd)
}

// managerName names the operator's process.
const managerName = "manager"

// localArgs adapts the Deployment's arguments to a process on this machine: its listeners on free
// loopback ports, and with leader election the Lease's namespace, which in a pod comes from the
// ServiceAccount's mounted namespace file.
func localArgs(args []string) []string {
	var local []string
	for _, arg := range args {
		name, _, _ := strings.Cut(arg, "=")
		switch name {
		case "--metrics-bind-address", "--health-probe-bind-address":
			arg = name + "=127.0.0.1:0"
		case "--leader-elect":
			local = append(local, "--leader-election-namespace="+installNamespace)
		}
		local = append(local, arg)
	}
	return local
}

// literalEnv is the container's environment with values written out. The kubelet would resolve the
// others (valueFrom); the Deployment has one, GOMEMLIMIT from its memory limit, a GC tuning knob.
func literalEnv(env []corev1.EnvVar) []string {
	var out []string
	for _, e := range env {
		if e.ValueFrom == nil {
			out = append(out, e.Name+"="+e.Value)
		}
	}
	return out
}

// serviceAccountConfig is a client configuration with a fresh TokenRequest token of the operator's
// ServiceAccount, as the kubelet projects one into its pods.
func (s *suite) serviceAccountConfig(ctx context.Context) (*rest.Config, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: installNamespace, Name: operatorName}}
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := s.admin.SubResource("token").Create(ctx, sa, request); err != nil {
		return nil, fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", installNamespace, operatorName, err)
	}
	admin := s.bed.ControlPlane.Config
	return &rest.Config{
		Host:            admin.Host,
		BearerToken:     request.Status.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData},
	}, nil
}

func writeKubeconfig(cfg *rest.Config, path string) error {
	return clientcmd.WriteToFile(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"e2e": {Server: cfg.Host, CertificateAuthorityData: cfg.CAData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"operator": {Token: cfg.BearerToken}},
		Contexts:       map[string]*clientcmdapi.Context{"operator": {Cluster: "e2e", AuthInfo: "operator"}},
		CurrentContext: "operator",
	}, path)
}

// applySamples creates config/samples (namespaces first), as an admin would.
func (s *suite) applySamples(t *testing.T) {
	samples, err := testbed.Samples()
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range samples {
		s.create(t, obj)
	}
}

// secretHolds is nil once the SsmConfig is Ready and its Secret holds exactly these values. Its
// errors name keys, never values.
func (s *suite) secretHolds(key client.ObjectKey, want map[string]string) func(context.Context) error {
	return func(ctx context.Context) error {
		ssmConfig := &ssmv1alpha1.SsmConfig{}
		if err := s.admin.Get(ctx, key, ssmConfig); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(ssmConfig.Status.Conditions, "Ready")
		if ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Errorf("SsmConfig %s is not Ready: %+v", key, ready)
		}
		secret := &corev1.Secret{}
		if err := s.admin.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: ssmConfig.Status.SecretName}, secret); err != nil {
			return err
		}
		if got := slices.Sorted(maps.Keys(secret.Data)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
			return fmt.Errorf("Secret %s/%s has the keys %v, want %v", secret.Namespace, secret.Name, got, slices.Sorted(maps.Keys(want)))
		}
		for k, v := range want {
			if string(secret.Data[k]) != v {
				return fmt.Errorf("Secret %s/%s: the value of %s is not the one in SSM", secret.Namespace, secret.Name, k)
			}
		}
		return nil
	}
}

// serviceAccountHasRole is nil once the seed's ServiceAccount is annotated with an IAM role that has
// exactly the policies it asks for attached.
func (s *suite) serviceAccountHasRole(ctx context.Context) error {
	sa := &corev1.ServiceAccount{}
	if err := s.admin.Get(ctx, seedServiceAccount, sa); err != nil {
		return err
	}
	roleARN := sa.Annotations[roleARNAnnotation]
	if roleARN == "" {
		return fmt.Errorf("ServiceAccount %s has no %s annotation", seedServiceAccount, roleARNAnnotation)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	roleName := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	out, err := iam.NewFromConfig(cfg).ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleName)})
	if err != nil {
		return fmt.Errorf("the role %s of ServiceAccount %s: %w", roleARN, seedServiceAccount, err)
	}
	var attached []string
	for _, p := range out.AttachedPolicies {
		attached = append(attached, aws.ToString(p.PolicyArn))
	}
	if !slices.Equal(slices.Sorted(slices.Values(attached)), slices.Sorted(slices.Values(seedPolicies))) {
		return fmt.Errorf("the role %s has %v attached, want %v", roleARN, attached, seedPolicies)
	}
	return nil
}
