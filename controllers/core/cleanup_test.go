package core

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
)

func TestDeleteRole(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		reason  string
		quiet   bool
		deleted bool
		foreign bool
	}{
		{name: "deleted", deleted: true},
		{name: "foreign role left alone", err: &irsa.RoleConflictError{RoleName: "r"}, foreign: true},
		{name: "IAM still propagating", err: irsa.ErrRolePropagating, quiet: true},
		{name: "IAM failure", err: errors.New("ServiceFailure"), reason: ReasonIAMError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.roles.deleteErr = tt.err
			run := f.r.newRun(serviceAccount(withFinalizers(Finalizer)))

			err := f.r.deleteRole(context.Background(), run)
			if tt.quiet {
				requireQuiet(t, err, propagationRetryInterval)
			} else {
				requireStepError(t, err, tt.reason)
			}

			assert.Equal(t, []string{run.roleName}, f.roles.deleted)
			assert.Equal(t, tt.deleted, run.deleted)
			assert.Equal(t, tt.foreign, run.foreign)
		})
	}
}

func TestRelease(t *testing.T) {
	roleName := irsa.RoleName(testCluster, "airflow", "airflow-iam-serviceaccount")
	ourARN := "arn:aws:iam::123456789012:role/k8s-aws-operator/" + roleName
	userARN := "arn:aws:iam::123456789012:role/team/their-own-role"
	tests := []struct {
		name            string
		sa              *corev1.ServiceAccount
		wantAnnotations map[string]string
		wantFinalizers  []string
	}{
		{
			name:            "label removed",
			sa:              serviceAccount(withLabel(SelectorLabel, "other"), withAnnotation(RoleARNAnnotation, ourARN), withFinalizers(Finalizer)),
			wantAnnotations: map[string]string{PoliciesAnnotation: seedAnnotation},
		},
		{
			name:            "a role ARN the user set is theirs",
			sa:              serviceAccount(withoutAnnotation(PoliciesAnnotation), withAnnotation(RoleARNAnnotation, userARN), withFinalizers(Finalizer)),
			wantAnnotations: map[string]string{RoleARNAnnotation: userARN},
		},
		{
			name:            "other finalizers stay",
			sa:              serviceAccount(withoutAnnotation(PoliciesAnnotation), withFinalizers("example.com/other", Finalizer)),
			wantAnnotations: map[string]string{},
			wantFinalizers:  []string{"example.com/other"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.sa)
			run := f.run(t, tt.sa)
			f.r.managed.add(run.key)

			require.NoError(t, f.r.release(context.Background(), run))

			stored := f.stored(t, tt.sa)
			assert.Equal(t, tt.wantFinalizers, stored.Finalizers)
			assert.Equal(t, len(tt.wantAnnotations), len(stored.Annotations), "annotations: %v", stored.Annotations)
			for key, value := range tt.wantAnnotations {
				assert.Equal(t, value, stored.Annotations[key])
			}
			assert.True(t, run.released)
			assert.Zero(t, managedGauge())
		})
	}
}

func TestReleaseLetsDeletionFinish(t *testing.T) {
	sa := serviceAccount(withFinalizers(Finalizer), deleting)
	f := newFixture(t, sa)

	require.NoError(t, f.r.release(context.Background(), f.run(t, sa)))

	err := f.client.Get(context.Background(), f.r.newRun(sa).key, &corev1.ServiceAccount{})
	assert.True(t, apierrors.IsNotFound(err), "the API server removes the ServiceAccount once our finalizer is gone: %v", err)
}
