package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

func TestReconcile(t *testing.T) {
	tests := []struct {
		name           string
		sa             *corev1.ServiceAccount
		ensureErr      error
		wantEnsured    bool
		wantDeleted    bool
		wantFinalizer  bool
		wantRoleARN    string
		wantGone       bool
		wantEvents     []string
		wantRequeue    time.Duration
		wantErr        bool
		wantManagedSet float64
	}{
		{
			name: "selected: role, finalizer, annotation", sa: serviceAccount(),
			wantEnsured: true, wantFinalizer: true, wantRoleARN: testRoleARN,
			wantEvents: []string{"Normal RoleCreated", "Normal PoliciesAttached"}, wantRequeue: 10 * time.Minute, wantManagedSet: 1,
		},
		{
			name: "refused: nothing applied, not even the finalizer", sa: serviceAccount(withAnnotation(PoliciesAnnotation, adminAccess)),
			wantEvents: []string{"Warning PolicyNotAllowed"}, wantRequeue: 10 * time.Minute,
		},
		{
			name: "IAM failure: retried with backoff", sa: serviceAccount(), ensureErr: errors.New("ServiceFailure"),
			wantEnsured: true, wantFinalizer: true, wantEvents: []string{"Warning IAMError"}, wantErr: true,
		},
		{
			name: "label removed: role deleted, released", sa: serviceAccount(withLabel(SelectorLabel, "IAM"), withFinalizers(Finalizer)),
			wantDeleted: true, wantEvents: []string{"Normal RoleDeleted"},
		},
		{
			name: "deleted: role deleted, ServiceAccount gone", sa: serviceAccount(withFinalizers(Finalizer), deleting),
			wantDeleted: true, wantGone: true, wantEvents: []string{"Normal RoleDeleted"},
		},
		{name: "never selected: ignored", sa: serviceAccount(withoutAnnotation(PoliciesAnnotation))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.sa)
			f.roles.err = tt.ensureErr
			f.roles.result = irsa.EnsureResult{RoleARN: testRoleARN, Created: true, Attached: []string{s3ReadOnly}}
			if tt.ensureErr != nil {
				f.roles.result = irsa.EnsureResult{}
			}

			result, err := f.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(tt.sa)})

			assert.Equal(t, tt.wantErr, err != nil, "error: %v", err)
			assert.Equal(t, tt.wantRequeue, result.RequeueAfter)
			assert.Equal(t, tt.wantEnsured, len(f.roles.ensured) == 1)
			assert.Equal(t, tt.wantDeleted, len(f.roles.deleted) == 1)
			assert.Equal(t, tt.wantEvents, eventReasons(f.events()))
			assert.Equal(t, tt.wantManagedSet, managedGauge())
			stored := &corev1.ServiceAccount{}
			err = f.client.Get(context.Background(), client.ObjectKeyFromObject(tt.sa), stored)
			if tt.wantGone {
				assert.True(t, apierrors.IsNotFound(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantFinalizer, len(stored.Finalizers) == 1)
			assert.Equal(t, tt.wantRoleARN, stored.Annotations[RoleARNAnnotation])
		})
	}
}

func TestReconcileOfDeletedServiceAccountForgetsIt(t *testing.T) {
	f := newFixture(t)
	sa := serviceAccount()
	run := f.r.newRun(sa)
	f.r.managed.add(run.key)

	_, err := f.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: run.key})

	require.NoError(t, err)
	assert.Zero(t, managedGauge())
}

func TestResult(t *testing.T) {
	tests := []struct {
		name        string
		released    bool
		err         error
		wantRequeue time.Duration
		wantErr     bool
	}{
		{name: "converged: next resync", wantRequeue: 10 * time.Minute},
		{name: "released: nothing left to watch", released: true},
		{name: "refused: next resync", err: steps.Refusal(ReasonPolicyNotAllowed, "no"), wantRequeue: 10 * time.Minute},
		{name: "propagating: a few seconds", err: propagating(irsa.ErrRolePropagating), wantRequeue: propagationRetryInterval},
		{name: "provider missing: a minute", err: &steps.Error{Reason: ReasonOIDCProviderNotFound, After: providerRecheckInterval}, wantRequeue: providerRecheckInterval},
		{name: "transient: backoff", err: steps.Transient(ReasonIAMError, "x", errors.New("boom")), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			run := f.r.newRun(serviceAccount())
			run.released = tt.released
			result, err := f.r.result(run, tt.err)
			assert.Equal(t, tt.wantRequeue, result.RequeueAfter)
			assert.Equal(t, tt.wantErr, err != nil)
		})
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		name    string
		ensured irsa.EnsureResult
		deleted bool
		foreign bool
		err     error
		want    []string
	}{
		{name: "in sync: silent", ensured: irsa.EnsureResult{RoleARN: testRoleARN}},
		{
			name: "every kind of change",
			ensured: irsa.EnsureResult{RoleARN: testRoleARN, TrustUpdated: true, BoundaryUpdated: true, TagsUpdated: true,
				Attached: []string{customPolicy}, Detached: []string{s3ReadOnly}},
			want: []string{"Normal TrustPolicyUpdated", "Normal BoundaryUpdated", "Normal RoleTagsUpdated", "Normal PoliciesDetached", "Normal PoliciesAttached"},
		},
		{
			name:    "changes made before a failure are still reported",
			ensured: irsa.EnsureResult{RoleARN: testRoleARN, Created: true},
			err:     steps.Transient(ReasonIAMError, "attaching", errors.New("Throttling")),
			want:    []string{"Normal RoleCreated", "Warning IAMError"},
		},
		{name: "propagating: silent", err: propagating(irsa.ErrRolePropagating)},
		{name: "refusal", err: steps.Refusal(ReasonInvalidPolicies, "bad"), want: []string{"Warning InvalidPolicies"}},
		{name: "provider missing", err: &steps.Error{Reason: ReasonOIDCProviderNotFound, Message: "missing"}, want: []string{"Warning OIDCProviderNotFound"}},
		{name: "deleted", deleted: true, want: []string{"Normal RoleDeleted"}},
		{name: "foreign role left", foreign: true, want: []string{"Warning RoleConflict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			run := f.r.newRun(serviceAccount())
			run.ensured, run.deleted, run.foreign = tt.ensured, tt.deleted, tt.foreign
			f.r.report(context.Background(), run, tt.err)
			assert.Equal(t, tt.want, eventReasons(f.events()))
		})
	}
}

func TestReportNamesWhatChanged(t *testing.T) {
	f := newFixture(t)
	run := f.r.newRun(serviceAccount())
	run.ensured = irsa.EnsureResult{RoleARN: testRoleARN, Attached: []string{customPolicy, s3ReadOnly}}

	f.r.report(context.Background(), run, steps.Refusal(ReasonPolicyNotAllowed, "policies not allowed: %s", adminAccess))

	events := f.events()
	require.Len(t, events, 2)
	assert.Contains(t, events[0], customPolicy+", "+s3ReadOnly)
	assert.Contains(t, events[1], adminAccess)
}

func TestOneLine(t *testing.T) {
	assert.Equal(t, "a; b", oneLine("a\nb"))
	long := oneLine(strings.Repeat("é", maxNoteLength))
	assert.LessOrEqual(t, len(long), maxNoteLength)
	assert.True(t, strings.HasSuffix(long, "..."))
}

// FuzzReconcileAnnotation feeds arbitrary annotations through Reconcile: it never fails or panics,
// and whatever reaches IAM is valid and allowed.
func FuzzReconcileAnnotation(f *testing.F) {
	for _, seed := range []string{seedAnnotation, "", " ,\n,", "arn:aws:iam::aws:policy/", adminAccess + " " + s3ReadOnly,
		strings.Repeat(s3ReadOnly+"x ", 30), "arn:aws:iam::123456789012:policy/a/b//c", "\xff\xfe"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, annotation string) {
		sa := serviceAccount(withAnnotation(PoliciesAnnotation, annotation))
		fx := newFixture(t, sa)

		_, err := fx.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(sa)})

		require.NoError(t, err, "bad input is refused, not retried")
		for _, desired := range fx.roles.ensured {
			_, refused := fx.r.Guardrails.Check(desired.Policies)
			assert.Empty(t, refused)
			for _, policy := range desired.Policies {
				assert.NoError(t, irsa.ValidatePolicyARN(policy))
			}
		}
	})
}
