package core

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/metrics"
)

const (
	testCluster     = "test"
	testProviderARN = "arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/ABC"
	testIssuer      = "https://oidc.example.com/id/ABC"
	testRoleARN     = "arn:aws:iam::123456789012:role/k8s-aws-operator/role"
	s3ReadOnly      = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	customPolicy    = "arn:aws:iam::524458042105:policy/605-SSM-Dev-ReadOnly"
	adminAccess     = "arn:aws:iam::aws:policy/AdministratorAccess"
	// seedAnnotation is the folded YAML value: spaces after the comma, a trailing newline.
	seedAnnotation = customPolicy + ", " + s3ReadOnly + "\n"
)

// fakeRoles records what the reconciler asks of IAM and answers with canned results.
type fakeRoles struct {
	result    irsa.EnsureResult
	err       error
	deleteErr error
	ensured   []irsa.DesiredRole
	deleted   []string
}

func (f *fakeRoles) Ensure(_ context.Context, desired irsa.DesiredRole) (irsa.EnsureResult, error) {
	f.ensured = append(f.ensured, desired)
	return f.result, f.err
}

func (f *fakeRoles) Delete(_ context.Context, name string, _ irsa.Owner) error {
	f.deleted = append(f.deleted, name)
	return f.deleteErr
}

type fakeProvider struct {
	err error
}

func (f fakeProvider) Provider(context.Context) (OIDCProvider, error) {
	if f.err != nil {
		return OIDCProvider{}, f.err
	}
	return OIDCProvider{ARN: testProviderARN, IssuerURL: testIssuer}, nil
}

// fixture is a reconciler over a fake API server, fake IAM and a recorder that keeps Events.
type fixture struct {
	r        *ServiceAccountReconciler
	client   client.Client
	roles    *fakeRoles
	recorder *events.FakeRecorder
}

func newFixture(t *testing.T, objects ...client.Object) *fixture {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(objects...).Build()
	roles := &fakeRoles{result: irsa.EnsureResult{RoleARN: testRoleARN}}
	recorder := events.NewFakeRecorder(32)
	metrics.IAMRolesManaged.Set(0)
	r := &ServiceAccountReconciler{
		Client:       c,
		Recorder:     recorder,
		Roles:        roles,
		Provider:     fakeProvider{},
		Guardrails:   irsa.DefaultGuardrails(),
		ClusterName:  testCluster,
		RolePath:     "/k8s-aws-operator/",
		ResyncPeriod: 10 * time.Minute,
		Jitter:       func(d time.Duration) time.Duration { return d },
		managed:      newManagedRoles(),
	}
	return &fixture{r: r, client: c, roles: roles, recorder: recorder}
}

// run builds a roleRun for the ServiceAccount as stored in the fake API server.
func (f *fixture) run(t *testing.T, sa *corev1.ServiceAccount) *roleRun {
	t.Helper()
	return f.r.newRun(f.stored(t, sa))
}

func (f *fixture) stored(t *testing.T, sa *corev1.ServiceAccount) *corev1.ServiceAccount {
	t.Helper()
	stored := &corev1.ServiceAccount{}
	if err := f.client.Get(context.Background(), client.ObjectKeyFromObject(sa), stored); err != nil {
		t.Fatal(err)
	}
	return stored
}

// events drains the recorded Events ("<type> <reason> <note>").
func (f *fixture) events() []string {
	var list []string
	for {
		select {
		case e := <-f.recorder.Events:
			list = append(list, e)
		default:
			return list
		}
	}
}

func managedGauge() float64 {
	return testutil.ToFloat64(metrics.IAMRolesManaged)
}

func eventReasons(events []string) []string {
	var reasons []string
	for _, e := range events {
		reasons = append(reasons, strings.Join(strings.Fields(e)[:2], " "))
	}
	return reasons
}

// serviceAccount is a selected ServiceAccount; options adjust it.
func serviceAccount(options ...func(*corev1.ServiceAccount)) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name:        "airflow-iam-serviceaccount",
		Namespace:   "airflow",
		Labels:      map[string]string{SelectorLabel: SelectorValue},
		Annotations: map[string]string{PoliciesAnnotation: seedAnnotation},
	}}
	for _, option := range options {
		option(sa)
	}
	return sa
}

func withAnnotation(key, value string) func(*corev1.ServiceAccount) {
	return func(sa *corev1.ServiceAccount) { sa.Annotations[key] = value }
}

func withoutAnnotation(key string) func(*corev1.ServiceAccount) {
	return func(sa *corev1.ServiceAccount) { delete(sa.Annotations, key) }
}

func withLabel(key, value string) func(*corev1.ServiceAccount) {
	return func(sa *corev1.ServiceAccount) { sa.Labels[key] = value }
}

func withFinalizers(finalizers ...string) func(*corev1.ServiceAccount) {
	return func(sa *corev1.ServiceAccount) { sa.Finalizers = append(sa.Finalizers, finalizers...) }
}

func deleting(sa *corev1.ServiceAccount) {
	sa.DeletionTimestamp = &metav1.Time{Time: time.Unix(1700000000, 0)}
}
