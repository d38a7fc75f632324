package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/steps"
)

// requireStepError checks that err stopped the run with reason, or that there was no error.
func requireStepError(t *testing.T, err error, reason string) *steps.Error {
	t.Helper()
	if reason == "" {
		require.NoError(t, err)
		return nil
	}
	var stepErr *steps.Error
	require.ErrorAs(t, err, &stepErr)
	assert.Equal(t, reason, stepErr.Reason, "message: %s", stepErr)
	return stepErr
}

// requireQuiet checks that err asks for a quiet look again after the interval.
func requireQuiet(t *testing.T, err error, after time.Duration) {
	t.Helper()
	var stepErr *steps.Error
	require.ErrorAs(t, err, &stepErr)
	assert.True(t, stepErr.Quiet)
	assert.False(t, stepErr.Retry)
	assert.Equal(t, after, stepErr.After)
}

func TestParsePolicies(t *testing.T) {
	elevenPolicies := make([]string, 11)
	for i := range elevenPolicies {
		elevenPolicies[i] = fmt.Sprintf("arn:aws:iam::123456789012:policy/p%d", i)
	}
	tests := []struct {
		name       string
		annotation string
		want       []string
		reason     string
		mentions   string
	}{
		{name: "folded YAML of the issue", annotation: seedAnnotation, want: []string{customPolicy, s3ReadOnly}},
		{name: "newlines, spaces and duplicates", annotation: "\n " + s3ReadOnly + "\n\n" + s3ReadOnly + " ,,", want: []string{s3ReadOnly}},
		{name: "empty is a role without policies", annotation: "", want: []string{}},
		{name: "invalid entry", annotation: s3ReadOnly + ", not-an-arn", reason: ReasonInvalidPolicies, mentions: "not-an-arn"},
		{name: "a role is not a policy", annotation: "arn:aws:iam::123456789012:role/admin", reason: ReasonInvalidPolicies, mentions: "role/admin"},
		{name: "too many", annotation: strings.Join(elevenPolicies, ","), reason: ReasonInvalidPolicies, mentions: "11 policies"},
		{name: "garbage is bounded", annotation: strings.Repeat("x", 100000), reason: ReasonInvalidPolicies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			run := f.r.newRun(serviceAccount(withAnnotation(PoliciesAnnotation, tt.annotation)))
			err := f.r.parsePolicies(context.Background(), run)
			if stepErr := requireStepError(t, err, tt.reason); stepErr != nil {
				assert.False(t, stepErr.Retry, "a user error is not retried with backoff")
				assert.Contains(t, stepErr.Error(), tt.mentions)
				assert.LessOrEqual(t, len(oneLine(stepErr.Error())), maxNoteLength)
				return
			}
			assert.Equal(t, tt.want, run.policies)
		})
	}
}

func TestCheckGuardrails(t *testing.T) {
	tests := []struct {
		name       string
		guardrails irsa.Guardrails
		policies   []string
		reason     string
		mentions   []string
	}{
		{name: "default guardrails allow ordinary policies", guardrails: irsa.DefaultGuardrails(), policies: []string{customPolicy, s3ReadOnly}},
		{
			name: "AdministratorAccess refused, whatever the case", guardrails: irsa.DefaultGuardrails(),
			policies: []string{s3ReadOnly, "arn:aws:iam::aws:policy/administratoraccess"},
			reason:   ReasonPolicyNotAllowed, mentions: []string{"administratoraccess"},
		},
		{
			name:       "allow list refuses the rest",
			guardrails: irsa.Guardrails{Allow: []string{"arn:aws:iam::524458042105:policy/605-*"}, MaxPolicies: 10},
			policies:   []string{customPolicy, s3ReadOnly}, reason: ReasonPolicyNotAllowed, mentions: []string{s3ReadOnly},
		},
		{
			name:       "deny wins over allow",
			guardrails: irsa.Guardrails{Allow: []string{"*"}, Deny: []string{"*AdministratorAccess"}, MaxPolicies: 10},
			policies:   []string{adminAccess}, reason: ReasonPolicyNotAllowed, mentions: []string{adminAccess},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.r.Guardrails = tt.guardrails
			run := f.r.newRun(serviceAccount())
			run.policies = tt.policies
			err := f.r.checkGuardrails(context.Background(), run)
			if stepErr := requireStepError(t, err, tt.reason); stepErr != nil {
				for _, m := range tt.mentions {
					assert.Contains(t, stepErr.Error(), m)
				}
				assert.Contains(t, stepErr.Error(), "nothing was applied")
				return
			}
			assert.Equal(t, tt.policies, run.policies)
		})
	}
}

func TestFindProvider(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		reason string
		retry  bool
		after  time.Duration
	}{
		{name: "found"},
		{name: "missing in IAM", err: &ProviderNotFoundError{ARN: testProviderARN}, reason: ReasonOIDCProviderNotFound, after: providerRecheckInterval},
		{name: "STS down", err: errors.New("connection refused"), reason: ReasonDiscoveryFailed, retry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.r.Provider = fakeProvider{err: tt.err}
			run := f.r.newRun(serviceAccount())
			err := f.r.findProvider(context.Background(), run)
			if stepErr := requireStepError(t, err, tt.reason); stepErr != nil {
				assert.Equal(t, tt.retry, stepErr.Retry)
				assert.Equal(t, tt.after, stepErr.After)
				return
			}
			assert.Equal(t, testProviderARN, run.provider.ARN)
		})
	}
}

func TestAddFinalizer(t *testing.T) {
	tests := []struct {
		name string
		sa   *corev1.ServiceAccount
		want []string
	}{
		{name: "added", sa: serviceAccount(), want: []string{Finalizer}},
		{name: "kept once", sa: serviceAccount(withFinalizers(Finalizer)), want: []string{Finalizer}},
		{name: "others kept", sa: serviceAccount(withFinalizers("example.com/other")), want: []string{"example.com/other", Finalizer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.sa)
			run := f.run(t, tt.sa)
			require.NoError(t, f.r.addFinalizer(context.Background(), run))
			assert.Equal(t, tt.want, f.stored(t, tt.sa).Finalizers)
		})
	}
}

func TestEnsureRole(t *testing.T) {
	propagatingErr := fmt.Errorf("attach: %w: %w", irsa.ErrRolePropagating, &types.NoSuchEntityException{})
	tests := []struct {
		name    string
		err     error
		reason  string
		quiet   bool
		managed float64
	}{
		{name: "converged", managed: 1},
		{name: "IAM still propagating", err: propagatingErr, quiet: true},
		{name: "foreign role", err: &irsa.RoleConflictError{RoleName: "r"}, reason: ReasonRoleConflict},
		{name: "IAM failure", err: errors.New("ServiceFailure"), reason: ReasonIAMError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.roles.err = tt.err
			f.r.Guardrails.PermissionsBoundary = "arn:aws:iam::123456789012:policy/boundary"
			run := f.r.newRun(serviceAccount())
			run.policies = []string{s3ReadOnly}
			run.provider = OIDCProvider{ARN: testProviderARN, IssuerURL: testIssuer}

			err := f.r.ensureRole(context.Background(), run)
			if tt.quiet {
				requireQuiet(t, err, propagationRetryInterval)
			} else {
				requireStepError(t, err, tt.reason)
			}
			assert.Equal(t, tt.managed, managedGauge())

			require.Len(t, f.roles.ensured, 1)
			desired := f.roles.ensured[0]
			assert.Equal(t, irsa.RoleName(testCluster, "airflow", "airflow-iam-serviceaccount"), desired.Name)
			assert.Equal(t, "/k8s-aws-operator/", desired.Path)
			assert.Equal(t, "arn:aws:iam::123456789012:policy/boundary", desired.Boundary)
			assert.Equal(t, []string{s3ReadOnly}, desired.Policies)
			assert.Equal(t, irsa.Owner{Cluster: testCluster, Namespace: "airflow", ServiceAccount: "airflow-iam-serviceaccount"}, desired.Owner)
			assertTrustsOnly(t, desired.TrustPolicy, "system:serviceaccount:airflow:airflow-iam-serviceaccount")
		})
	}
}

// assertTrustsOnly parses a trust policy and checks it admits exactly subject via the provider.
func assertTrustsOnly(t *testing.T, document, subject string) {
	t.Helper()
	var policy struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(document), &policy))
	require.Len(t, policy.Statement, 1)
	statement := policy.Statement[0]
	assert.Equal(t, "Allow", statement.Effect)
	assert.Equal(t, map[string]string{"Federated": testProviderARN}, statement.Principal)
	assert.Equal(t, "sts:AssumeRoleWithWebIdentity", statement.Action)
	assert.Equal(t, map[string]map[string]string{"StringEquals": {
		"oidc.example.com/id/ABC:sub": subject,
		"oidc.example.com/id/ABC:aud": "sts.amazonaws.com",
	}}, statement.Condition)
}

func TestAnnotate(t *testing.T) {
	tests := []struct {
		name string
		sa   *corev1.ServiceAccount
	}{
		{name: "new", sa: serviceAccount()},
		{name: "removed by a user", sa: serviceAccount(withAnnotation("team", "data"))},
		{name: "changed by a user", sa: serviceAccount(withAnnotation(RoleARNAnnotation, "arn:aws:iam::123456789012:role/other"))},
		{name: "unchanged", sa: serviceAccount(withAnnotation(RoleARNAnnotation, testRoleARN))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.sa)
			run := f.run(t, tt.sa)
			run.ensured.RoleARN = testRoleARN
			before := run.sa.DeepCopy()

			require.NoError(t, f.r.annotate(context.Background(), run))

			stored := f.stored(t, tt.sa)
			assert.Equal(t, testRoleARN, stored.Annotations[RoleARNAnnotation])
			for key, value := range before.Annotations {
				if key != RoleARNAnnotation {
					assert.Equal(t, value, stored.Annotations[key], "annotation %s is the user's", key)
				}
			}
			if before.Annotations[RoleARNAnnotation] == testRoleARN {
				assert.Equal(t, before.ResourceVersion, stored.ResourceVersion, "nothing to write")
			}
		})
	}
}

func TestPatchThatLostARaceIsRetriedQuietly(t *testing.T) {
	sa := serviceAccount()
	f := newFixture(t, sa)
	run := f.run(t, sa)
	stale := run.sa.ResourceVersion
	require.NoError(t, f.r.addFinalizer(context.Background(), f.run(t, sa)))
	run.sa.ResourceVersion = stale
	run.ensured.RoleARN = testRoleARN

	err := f.r.annotate(context.Background(), run)

	requireQuiet(t, err, conflictRetryInterval)
}
