package irsa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testCluster   = "prod"
	testNamespace = "payments"
	testSA        = "api"
	testAccount   = "524458042105"
	testIssuer    = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

	ssmPolicy   = "arn:aws:iam::524458042105:policy/605-SSM-Dev-ReadOnly"
	s3Policy    = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	sqsPolicy   = "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"
	adminPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"
	boundaryA   = "arn:aws:iam::524458042105:policy/boundaries/irsa-a"
	boundaryB   = "arn:aws:iam::524458042105:policy/boundaries/irsa-b"
)

var testOwner = Owner{Cluster: testCluster, Namespace: testNamespace, ServiceAccount: testSA}

func trustFor(t testing.TB, namespace, serviceAccount string) string {
	t.Helper()
	trust, err := TrustPolicy(OIDCProviderARN("aws", testAccount, testIssuer), testIssuer, namespace, serviceAccount)
	require.NoError(t, err)
	return trust
}

func testDesiredRole(t testing.TB) DesiredRole {
	return DesiredRole{
		Name:        RoleName(testCluster, testNamespace, testSA),
		Path:        "/k8s-aws-operator/",
		Description: "IRSA role for payments/api",
		TrustPolicy: trustFor(t, testNamespace, testSA),
		Boundary:    boundaryA,
		Policies:    []string{ssmPolicy, s3Policy},
		Owner:       testOwner,
		Tags:        map[string]string{"cost-center": "605"},
	}
}

func roleARN(d DesiredRole) string {
	return "arn:aws:iam::" + testAccount + ":role" + d.rolePath() + d.Name
}

func TestEnsureCreatesRole(t *testing.T) {
	f := newFakeIAM()
	desired := testDesiredRole(t)

	result, err := managerFor(f).Ensure(context.Background(), desired)

	require.NoError(t, err)
	assert.Equal(t, EnsureResult{RoleARN: roleARN(desired), Created: true, Attached: []string{ssmPolicy, s3Policy}}, result)
	assert.Equal(t, []string{"GetRole", "CreateRole", "AttachRolePolicy", "AttachRolePolicy"}, f.calls,
		"a role created in this call is known to have no policies, so it is not listed")
	got, _ := f.snapshot(desired.Name)
	assert.Equal(t, wantSnapshot(desired), got)
}

func TestEnsureRepairsDrift(t *testing.T) {
	tests := []struct {
		name       string
		drift      func(*fakeRole)
		change     func(*DesiredRole)
		want       EnsureResult
		wantWrites []string
	}{
		{
			name: "in sync costs only reads",
		},
		{
			name:  "equivalently formatted trust policy is not drift",
			drift: func(r *fakeRole) { r.trust = reformattedTrust(t) },
		},
		{
			name:  "foreign tags are left alone",
			drift: func(r *fakeRole) { r.tags["owner-team"] = "sre" },
		},
		{
			name:       "policy added to the annotation is attached",
			change:     func(d *DesiredRole) { d.Policies = append(d.Policies, sqsPolicy) },
			want:       EnsureResult{Attached: []string{sqsPolicy}},
			wantWrites: []string{"AttachRolePolicy"},
		},
		{
			name:       "policy removed from the annotation is detached",
			change:     func(d *DesiredRole) { d.Policies = []string{ssmPolicy} },
			want:       EnsureResult{Detached: []string{s3Policy}},
			wantWrites: []string{"DetachRolePolicy"},
		},
		{
			name:       "manually attached policy is detached",
			drift:      func(r *fakeRole) { r.attached = append(r.attached, adminPolicy) },
			want:       EnsureResult{Detached: []string{adminPolicy}},
			wantWrites: []string{"DetachRolePolicy"},
		},
		{
			name:       "policies swapped detach before attach",
			change:     func(d *DesiredRole) { d.Policies = []string{sqsPolicy} },
			want:       EnsureResult{Detached: []string{ssmPolicy, s3Policy}, Attached: []string{sqsPolicy}},
			wantWrites: []string{"DetachRolePolicy", "DetachRolePolicy", "AttachRolePolicy"},
		},
		{
			name:       "trust policy drift is repaired",
			drift:      func(r *fakeRole) { r.trust = trustFor(t, testNamespace, "intruder") },
			want:       EnsureResult{TrustUpdated: true},
			wantWrites: []string{"UpdateAssumeRolePolicy"},
		},
		{
			name:       "unreadable trust policy is replaced",
			drift:      func(r *fakeRole) { r.trust = "garbage" },
			want:       EnsureResult{TrustUpdated: true},
			wantWrites: []string{"UpdateAssumeRolePolicy"},
		},
		{
			name:       "missing boundary is set",
			drift:      func(r *fakeRole) { r.boundary = "" },
			want:       EnsureResult{BoundaryUpdated: true},
			wantWrites: []string{"PutRolePermissionsBoundary"},
		},
		{
			name:       "changed boundary is replaced",
			drift:      func(r *fakeRole) { r.boundary = boundaryB },
			want:       EnsureResult{BoundaryUpdated: true},
			wantWrites: []string{"PutRolePermissionsBoundary"},
		},
		{
			name:       "boundary no longer desired is removed",
			change:     func(d *DesiredRole) { d.Boundary = "" },
			want:       EnsureResult{BoundaryUpdated: true},
			wantWrites: []string{"DeleteRolePermissionsBoundary"},
		},
		{
			name:       "missing extra tag is added",
			drift:      func(r *fakeRole) { delete(r.tags, "cost-center") },
			want:       EnsureResult{TagsUpdated: true},
			wantWrites: []string{"TagRole"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			desired := testDesiredRole(t)
			seeded := f.seed(desired)
			if tt.drift != nil {
				tt.drift(seeded)
			}
			if tt.change != nil {
				tt.change(&desired)
			}
			manager := managerFor(f)

			result, err := manager.Ensure(context.Background(), desired)

			require.NoError(t, err)
			tt.want.RoleARN = roleARN(desired)
			assert.Equal(t, tt.want, result)
			assert.Equal(t, tt.wantWrites, f.writeCalls())
			assert.Equal(t, tt.want.Changed(), result.Changed())
			assertConverged(t, f, manager, desired)
		})
	}
}

// assertConverged checks the role matches desired and that another Ensure
// only reads.
func assertConverged(t *testing.T, f *fakeIAM, manager *RoleManager, desired DesiredRole) {
	t.Helper()
	got, ok := f.snapshot(desired.Name)
	require.True(t, ok, "role must exist")
	want := wantSnapshot(desired)
	want.Tags = got.Tags // foreign tags may remain
	assert.Equal(t, want, got)
	assert.Subset(t, got.Tags, desired.allTags())

	f.resetCalls()
	result, err := manager.Ensure(context.Background(), desired)
	require.NoError(t, err)
	assert.False(t, result.Changed())
	assert.Empty(t, f.writeCalls(), "an in-sync role must cost zero writes")
}

func reformattedTrust(t *testing.T) string {
	host := IssuerHostPath(testIssuer)
	return fmt.Sprintf(`{
	  "Statement": {
	    "Condition": {"StringEquals": {"%[1]s:aud": ["sts.amazonaws.com"], "%[1]s:sub": "system:serviceaccount:%[2]s:%[3]s"}},
	    "Action": ["sts:AssumeRoleWithWebIdentity"],
	    "Principal": {"Federated": ["%[4]s"]},
	    "Effect": "Allow"
	  },
	  "Version": "2012-10-17"
	}`, host, testNamespace, testSA, OIDCProviderARN("aws", testAccount, testIssuer))
}

func TestEnsureInSyncCostsOnlyGetRoleAndList(t *testing.T) {
	f := newFakeIAM()
	desired := testDesiredRole(t)
	f.seed(desired)

	_, err := managerFor(f).Ensure(context.Background(), desired)

	require.NoError(t, err)
	assert.Equal(t, []string{"GetRole", "ListAttachedRolePolicies"}, f.calls)
}

func TestEnsureRefusesForeignRole(t *testing.T) {
	tests := []struct {
		name  string
		owner map[string]string
	}{
		{name: "untagged role", owner: map[string]string{}},
		{name: "other namespace", owner: Owner{Cluster: testCluster, Namespace: "other", ServiceAccount: testSA}.Tags()},
		{name: "other cluster", owner: Owner{Cluster: "staging", Namespace: testNamespace, ServiceAccount: testSA}.Tags()},
		{name: "other manager", owner: withTag(testOwner.Tags(), TagKeyManagedBy, "terraform")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			desired := testDesiredRole(t)
			foreign := f.seed(desired)
			foreign.tags = tt.owner
			foreign.trust = trustFor(t, "other", "other")
			foreign.attached = []string{adminPolicy}
			before, _ := f.snapshot(desired.Name)

			result, err := managerFor(f).Ensure(context.Background(), desired)

			var conflict *RoleConflictError
			require.ErrorAs(t, err, &conflict)
			assert.Equal(t, desired.Name, conflict.RoleName)
			assert.False(t, result.Changed())
			assert.Empty(t, f.writeCalls())
			after, _ := f.snapshot(desired.Name)
			assert.Equal(t, before, after)
		})
	}
}

func TestEnsureCreateRace(t *testing.T) {
	tests := []struct {
		name        string
		winnerOwner Owner
		wantErr     bool
	}{
		{name: "our own earlier attempt won", winnerOwner: testOwner},
		{name: "someone else won", winnerOwner: Owner{Cluster: "other", Namespace: testNamespace, ServiceAccount: testSA}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			desired := testDesiredRole(t)
			f.intercept = func(call string) error {
				if call == "CreateRole" {
					f.seed(DesiredRole{Name: desired.Name, Path: desired.Path, TrustPolicy: desired.TrustPolicy, Owner: tt.winnerOwner})
				}
				return nil
			}

			result, err := managerFor(f).Ensure(context.Background(), desired)

			if tt.wantErr {
				require.ErrorAs(t, err, new(*RoleConflictError))
				assert.Equal(t, []string{"CreateRole"}, f.writeCalls(), "nothing but the failed create")
				return
			}
			require.NoError(t, err)
			assert.False(t, result.Created)
			assert.True(t, result.BoundaryUpdated)
			assert.True(t, result.TagsUpdated)
			assert.Equal(t, []string{ssmPolicy, s3Policy}, result.Attached)
			assertConverged(t, f, managerFor(f), desired)
		})
	}
}

func TestEnsureRoleExistsButNotYetReadable(t *testing.T) {
	f := newFakeIAM()
	f.intercept = func(call string) error {
		if call == "CreateRole" {
			return &types.EntityAlreadyExistsException{}
		}
		return nil
	}

	_, err := managerFor(f).Ensure(context.Background(), testDesiredRole(t))

	assert.ErrorIs(t, err, ErrRolePropagating)
}

func TestEnsureEventualConsistency(t *testing.T) {
	tests := []struct {
		name            string
		roleAge         time.Duration
		wantPropagating bool
	}{
		{name: "role created in this call", roleAge: 0, wantPropagating: true},
		{name: "role created seconds ago", roleAge: 10 * time.Second, wantPropagating: true},
		{name: "old role means the policy is missing", roleAge: time.Hour, wantPropagating: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			desired := testDesiredRole(t)
			if tt.roleAge > 0 {
				f.seed(desired).created = f.now.Add(-tt.roleAge)
				desired.Policies = append(desired.Policies, sqsPolicy)
			}
			f.intercept = func(call string) error {
				if call == "AttachRolePolicy" {
					return &types.NoSuchEntityException{}
				}
				return nil
			}

			_, err := managerFor(f).Ensure(context.Background(), desired)

			require.Error(t, err)
			assert.Equal(t, tt.wantPropagating, errors.Is(err, ErrRolePropagating))
			assert.ErrorAs(t, err, new(*types.NoSuchEntityException), "the SDK error must stay reachable")
		})
	}
}

func TestEnsureKeepsSDKErrorsReachable(t *testing.T) {
	f := newFakeIAM()
	f.intercept = func(string) error { return &types.ServiceFailureException{} }

	_, err := managerFor(f).Ensure(context.Background(), testDesiredRole(t))

	assert.ErrorAs(t, err, new(*types.ServiceFailureException))
}

func TestEnsureRejectsInvalidDesiredRole(t *testing.T) {
	tests := []struct {
		name   string
		change func(*DesiredRole)
	}{
		{"empty name", func(d *DesiredRole) { d.Name = "" }},
		{"name too long", func(d *DesiredRole) { d.Name = strings.Repeat("a", 65) }},
		{"bad path", func(d *DesiredRole) { d.Path = "no-slashes" }},
		{"trust policy not JSON", func(d *DesiredRole) { d.TrustPolicy = "{" }},
		{"incomplete owner", func(d *DesiredRole) { d.Owner.ServiceAccount = "" }},
		{"reserved tag key", func(d *DesiredRole) { d.Tags = map[string]string{TagKeyNamespace: "kube-system"} }},
		{"invalid policy", func(d *DesiredRole) { d.Policies = []string{"arn:aws:iam::aws:role/x"} }},
		{"invalid boundary", func(d *DesiredRole) { d.Boundary = "boundary" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIAM()
			desired := testDesiredRole(t)
			tt.change(&desired)

			_, err := managerFor(f).Ensure(context.Background(), desired)

			assert.Error(t, err)
			assert.Empty(t, f.calls)
		})
	}
}

// TestEnsureConvergesAfterFailureAtEachStep fails every call of a full run in
// turn, both before it takes effect and after (a lost response), then checks
// that a rerun reaches the desired state.
func TestEnsureConvergesAfterFailureAtEachStep(t *testing.T) {
	scenarios := []struct {
		name  string
		start func(f *fakeIAM, desired DesiredRole)
	}{
		{name: "create", start: func(*fakeIAM, DesiredRole) {}},
		{name: "repair everything", start: func(f *fakeIAM, desired DesiredRole) {
			r := f.seed(desired)
			r.trust = trustFor(t, testNamespace, "intruder")
			r.boundary = boundaryB
			delete(r.tags, "cost-center")
			r.attached = []string{adminPolicy, ssmPolicy, sqsPolicy}
		}},
	}
	for _, scenario := range scenarios {
		steps := countCalls(t, func(f *fakeIAM) error {
			desired := testDesiredRole(t)
			scenario.start(f, desired)
			_, err := managerFor(f).Ensure(context.Background(), desired)
			return err
		})
		for step := 1; step <= steps; step++ {
			for _, afterApply := range []bool{false, true} {
				name := fmt.Sprintf("%s/fail call %d/after apply %v", scenario.name, step, afterApply)
				t.Run(name, func(t *testing.T) {
					f := newFakeIAM()
					desired := testDesiredRole(t)
					scenario.start(f, desired)
					f.failAt, f.failAfterApply = step, afterApply
					manager := managerFor(f)

					_, err := manager.Ensure(context.Background(), desired)
					require.ErrorIs(t, err, errInjected)

					f.resetCalls()
					_, err = manager.Ensure(context.Background(), desired)
					require.NoError(t, err)
					assertConverged(t, f, manager, desired)
				})
			}
		}
	}
}

// countCalls runs a clean pass on a fresh fake and returns how many calls it made.
func countCalls(t *testing.T, run func(*fakeIAM) error) int {
	t.Helper()
	f := newFakeIAM()
	require.NoError(t, run(f))
	require.NotEmpty(t, f.calls)
	return len(f.calls)
}
