package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/605-tv/k8s-aws-operator/controllers/core"
	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/operator"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	timeout  = 30 * time.Second
	poll     = 50 * time.Millisecond
	cluster  = "testbed" // testbed.OperatorConfig's cluster name
	rolePath = "/k8s-aws-operator/"

	s3ReadOnly  = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	sqsReadOnly = "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"
	adminAccess = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// runOperator runs the operator for the test; when the test ends, the ServiceAccounts of namespace
// are deleted first, while the operator still runs, so that no role and no selected ServiceAccount
// outlives its test (the next test's operator would pick it up).
func runOperator(t *testing.T, namespace string, mutate func(*operator.Config)) {
	t.Helper()
	bed.RunOperator(t, mutate)
	t.Cleanup(func() { deleteServiceAccounts(t, namespace) })
}

// startOperator starts an operator and returns its stop function, for tests that stop it half way
// (a crash, as far as IAM and the API server can tell). It stops at the test's end otherwise.
func startOperator(t *testing.T, mutate func(*operator.Config)) (stop func()) {
	t.Helper()
	cfg, err := testbed.OperatorConfig()
	require.NoError(t, err)
	if mutate != nil {
		mutate(cfg)
	}
	op, err := bed.StartOperator(cfg)
	require.NoError(t, err)
	var once sync.Once
	stop = func() { once.Do(func() { assert.NoError(t, op.Stop()) }) }
	t.Cleanup(stop)
	return stop
}

// noRetries surfaces AWS failures on the first attempt, so injected faults stop a reconcile.
func noRetries(cfg *operator.Config) { cfg.AWS.MaxAttempts = 1 }

func deleteServiceAccounts(t *testing.T, namespace string) {
	ctx := context.Background()
	list := &corev1.ServiceAccountList{}
	require.NoError(t, bed.Client.List(ctx, list, client.InNamespace(namespace)))
	for i := range list.Items {
		sa := &list.Items[i]
		require.NoError(t, client.IgnoreNotFound(bed.Client.Delete(ctx, sa)))
		requireGone(t, sa)
		assert.Nil(t, getRole(t, roleName(sa)), "no orphaned role")
	}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "iam-"}}
	require.NoError(t, bed.Client.Create(context.Background(), ns))
	return ns.Name
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	require.NoError(t, client.IgnoreAlreadyExists(bed.Client.Create(context.Background(), ns)))
}

// createServiceAccount creates a selected ServiceAccount asking for policies.
func createServiceAccount(t *testing.T, namespace, name string, policies ...string) *corev1.ServiceAccount {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Namespace:   namespace,
		Labels:      map[string]string{core.SelectorLabel: core.SelectorValue},
		Annotations: map[string]string{core.PoliciesAnnotation: strings.Join(policies, ",\n"), "team": "data"},
	}}
	require.NoError(t, bed.Client.Create(context.Background(), sa))
	return sa
}

// update changes the ServiceAccount as a user would, retrying on conflicts with the operator.
func update(t *testing.T, sa *corev1.ServiceAccount, change func(*corev1.ServiceAccount)) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		current := get(c, sa)
		change(current)
		assert.NoError(c, bed.Client.Update(context.Background(), current))
	}, timeout, poll)
}

func get(t require.TestingT, sa *corev1.ServiceAccount) *corev1.ServiceAccount {
	current := &corev1.ServiceAccount{}
	require.NoError(t, bed.Client.Get(context.Background(), client.ObjectKeyFromObject(sa), current))
	return current
}

func requireGone(t *testing.T, sa *corev1.ServiceAccount) {
	t.Helper()
	require.Eventually(t, func() bool {
		err := bed.Client.Get(context.Background(), client.ObjectKeyFromObject(sa), &corev1.ServiceAccount{})
		return apierrors.IsNotFound(err)
	}, timeout, poll, "ServiceAccount %s/%s still exists", sa.Namespace, sa.Name)
}

func roleName(sa *corev1.ServiceAccount) string {
	return irsa.RoleName(cluster, sa.Namespace, sa.Name)
}

// getRole reads a role through the SDK; nil when it does not exist.
func getRole(c require.TestingT, name string) *iamtypes.Role {
	out, err := iamClient(c).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(name)})
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return nil
	}
	assert.NoError(c, err)
	if out == nil {
		return nil
	}
	return out.Role
}

func attachedPolicies(c require.TestingT, name string) []string {
	out, err := iamClient(c).ListAttachedRolePolicies(context.Background(), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if !assert.NoError(c, err) {
		return nil
	}
	policies := []string{}
	for _, p := range out.AttachedPolicies {
		policies = append(policies, aws.ToString(p.PolicyArn))
	}
	slices.Sort(policies)
	return policies
}

// waitForRole waits until the ServiceAccount is annotated with its role and the role holds
// exactly policies, and returns the role.
func waitForRole(t *testing.T, sa *corev1.ServiceAccount, policies ...string) *iamtypes.Role {
	t.Helper()
	want := slices.Sorted(slices.Values(policies))
	if want == nil {
		want = []string{}
	}
	var role *iamtypes.Role
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		role = getRole(c, roleName(sa))
		if !assert.NotNil(c, role, "role %s", roleName(sa)) {
			return
		}
		assert.Equal(c, want, attachedPolicies(c, roleName(sa)))
		current := get(c, sa)
		assert.Equal(c, aws.ToString(role.Arn), current.Annotations[core.RoleARNAnnotation])
		assert.Contains(c, current.Finalizers, core.Finalizer)
	}, timeout, poll)
	return role
}

// waitForRelease waits until the role is gone and the ServiceAccount is released: no finalizer,
// no role ARN, and every annotation of the user still there.
func waitForRelease(t *testing.T, sa *corev1.ServiceAccount) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Nil(c, getRole(c, roleName(sa)), "role %s still exists", roleName(sa))
		current := get(c, sa)
		assert.NotContains(c, current.Finalizers, core.Finalizer)
		assert.NotContains(c, current.Annotations, core.RoleARNAnnotation)
		assert.Equal(c, "data", current.Annotations["team"])
	}, timeout, poll)
}

// waitForEvent waits for an Event about the ServiceAccount and returns its note.
func waitForEvent(t *testing.T, sa *corev1.ServiceAccount, eventType, reason string) string {
	t.Helper()
	var note string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		notes := eventNotes(c, sa, eventType, reason)
		if assert.NotEmpty(c, notes, "no %s Event %s", eventType, reason) {
			note = notes[len(notes)-1]
		}
	}, timeout, poll)
	return note
}

// eventNotes lists the notes of the events.k8s.io Events about the ServiceAccount.
func eventNotes(c assert.TestingT, sa *corev1.ServiceAccount, eventType, reason string) []string {
	list := &eventsv1.EventList{}
	if !assert.NoError(c, bed.Client.List(context.Background(), list, client.InNamespace(sa.Namespace))) {
		return nil
	}
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "ServiceAccount" && e.Regarding.Name == sa.Name && e.Type == eventType && e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}
