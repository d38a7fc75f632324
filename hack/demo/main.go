// Command demo shows k8s-aws-operator at work on this machine: a real kube-apiserver + etcd, the
// local AWS emulator, and the operator binary as its own process. It applies config/samples, waits
// until they are reconciled, prints what happened, and keeps everything running for kubectl until
// Ctrl-C (or exits at once with DEMO_EXIT=1), stopping every process it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/awsemu"
	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// seedAccount is the AWS account of the seed's policy ARNs, so that they are the emulator's own.
const seedAccount = "524458042105"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	kubectl := flag.String("kubectl", "kubectl", "kubectl to suggest for exploring the demo cluster")
	workDir := flag.String("dir", ".demo", "folder for the kubeconfig, the operator binary and its log")
	exitAfter := flag.Bool("exit", os.Getenv("DEMO_EXIT") == "1", "exit after printing instead of waiting for Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	step("starting kube-apiserver + etcd and the AWS emulator")
	bed, err := testbed.StartWith(awsemu.Options{AccountID: seedAccount})
	if err != nil {
		return err
	}
	defer func() { _ = bed.Stop() }()
	if err := seedAWS(bed.Emulator); err != nil {
		return err
	}
	dir, err := filepath.Abs(*workDir)
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := bed.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}

	step("building and starting the operator (log: " + filepath.Join(dir, "operator.log") + ")")
	operator, err := startOperator(ctx, bed, dir, kubeconfig)
	if err != nil {
		return err
	}
	defer func() { _ = operator.Stop(15 * time.Second) }()

	step("applying config/samples")
	samples, err := applySamples(ctx, bed.Client)
	if err != nil {
		return err
	}
	if err := report(ctx, bed, samples, operator); err != nil {
		return err
	}
	if *exitAfter {
		fmt.Println("\nDEMO_EXIT=1: stopping the operator, the emulator and the control plane.")
		return nil
	}
	fmt.Printf("\nThe cluster stays up. Try:\n  export KUBECONFIG=%s\n  %s get ssmconfigs,secrets,serviceaccounts -n airflow\n", kubeconfig, *kubectl)
	fmt.Printf("  AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 \\\n"+
		"    aws ssm put-parameter --name /dev-qa/airflow/FERNET_KEY --value rotated --type SecureString --overwrite\n", bed.EmulatorURL)
	fmt.Println("Press Ctrl-C to stop everything.")
	<-ctx.Done()
	return nil
}

func step(msg string) { fmt.Printf("==> %s\n", msg) }

// seedAWS creates what the samples refer to: the seed's SSM parameters and customer policy.
func seedAWS(emu *awsemu.Emulator) error {
	for name, value := range map[string]string{
		"/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET": "demo-sentry-client-secret",
		"/dev-qa/airflow/FERNET_KEY":                     "demo-fernet-key-0123456789abcdef",
	} {
		if err := emu.PutParameter(name, value, "SecureString"); err != nil {
			return err
		}
	}
	_, err := emu.CreatePolicy("605-SSM-Dev-ReadOnly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"arn:aws:ssm:*:`+seedAccount+`:parameter/dev-qa/*"}]}`)
	return err
}

// startOperator builds the operator and runs it as its own process, configured like a deployment
// would be, with the SDK pointed at the emulator through AWS_ENDPOINT_URL.
func startOperator(ctx context.Context, bed *testbed.Bed, dir, kubeconfig string) (*testbed.Process, error) {
	binary, err := testbed.BuildOperator(ctx, dir)
	if err != nil {
		return nil, err
	}
	cmd := bed.OperatorCommand(binary, kubeconfig, "--cluster-name=demo", "--iam-resync-period=1m")
	return testbed.StartProcess("operator", filepath.Join(dir, "operator.log"), cmd)
}

// applySamples creates config/samples (and the namespaces they live in).
func applySamples(ctx context.Context, k8s client.Client) ([]*unstructured.Unstructured, error) {
	objects, err := testbed.Samples()
	if err != nil {
		return nil, err
	}
	for _, obj := range objects {
		if ns := obj.GetNamespace(); ns != "" {
			err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, err
			}
		}
		if err := k8s.Create(ctx, obj); err != nil && !(obj.GetKind() == "Namespace" && apierrors.IsAlreadyExists(err)) {
			return nil, fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		fmt.Printf("    created %s %s/%s\n", obj.GetKind(), obj.GetNamespace(), obj.GetName())
	}
	return objects, nil
}

// report waits for each sample to be reconciled and prints the outcome.
func report(ctx context.Context, bed *testbed.Bed, samples []*unstructured.Unstructured, op *testbed.Process) error {
	for _, obj := range samples {
		var err error
		switch obj.GetKind() {
		case "SsmConfig":
			err = reportSsmConfig(ctx, bed.Client, client.ObjectKeyFromObject(obj))
		case "ServiceAccount":
			err = reportServiceAccount(ctx, bed, client.ObjectKeyFromObject(obj))
		}
		if err != nil {
			return fmt.Errorf("%w (operator log: %s)", err, op.LogPath)
		}
	}
	return nil
}

func waitUntil(ctx context.Context, what string, done func(context.Context) (bool, error)) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, done)
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

func reportSsmConfig(ctx context.Context, k8s client.Client, key client.ObjectKey) error {
	obj := &ssmv1alpha1.SsmConfig{}
	err := waitUntil(ctx, "SsmConfig "+key.String(), func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, key, obj); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(obj.Status.Conditions, "Ready"), nil
	})
	if err != nil {
		return err
	}
	secret := &corev1.Secret{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: obj.Status.SecretName}, secret); err != nil {
		return err
	}
	ready := meta.FindStatusCondition(obj.Status.Conditions, "Ready")
	fmt.Printf("\nSsmConfig %s: Ready=%s (%s: %s)\n  Secret %s/%s, type %s, keys:\n", key, ready.Status, ready.Reason, ready.Message,
		secret.Namespace, secret.Name, secret.Type)
	for _, k := range sortedKeys(secret.Data) {
		fmt.Printf("    %-32s %s\n", k, masked(string(secret.Data[k])))
	}
	return nil
}

func reportServiceAccount(ctx context.Context, bed *testbed.Bed, key client.ObjectKey) error {
	sa := &corev1.ServiceAccount{}
	err := waitUntil(ctx, "ServiceAccount "+key.String()+" to get its role", func(ctx context.Context) (bool, error) {
		if err := bed.Client.Get(ctx, key, sa); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return sa.Annotations["eks.amazonaws.com/role-arn"] != "", nil
	})
	if err != nil {
		return err
	}
	roleARN := sa.Annotations["eks.amazonaws.com/role-arn"]
	fmt.Printf("\nServiceAccount %s:\n  eks.amazonaws.com/role-arn: %s\n", key, roleARN)
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	roleName := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	attached, err := iam.NewFromConfig(cfg).ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleName)})
	if err != nil {
		return err
	}
	for _, p := range attached.AttachedPolicies {
		fmt.Printf("  attached: %s\n", aws.ToString(p.PolicyArn))
	}
	// What the EKS pod identity webhook would hand a pod: a token for this ServiceAccount.
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{irsa.WebIdentityAudience}}}
	if err := bed.Client.SubResource("token").Create(ctx, sa, request); err != nil {
		return err
	}
	anonymous := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	out, err := anonymous.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("demo"), WebIdentityToken: aws.String(request.Status.Token),
	})
	if err != nil {
		return fmt.Errorf("assuming the role with the ServiceAccount's token: %w", err)
	}
	fmt.Printf("  a pod with this ServiceAccount assumes it: %s\n", aws.ToString(out.AssumedRoleUser.Arn))
	return nil
}

func masked(value string) string {
	if len(value) <= 4 {
		return "****"
	}
	return value[:4] + strings.Repeat("*", 8) + fmt.Sprintf(" (%d bytes)", len(value))
}

func sortedKeys(m map[string][]byte) []string {
	return slices.Sorted(maps.Keys(m))
}
