package integration

import (
	"context"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/605-tv/k8s-aws-operator/controllers/core"
	"github.com/605-tv/k8s-aws-operator/internal/operator"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

func TestGuardrails(t *testing.T) {
	ns := newNamespace(t)
	runOperator(t, ns, nil)

	refusals := []struct {
		name     string
		policies []string
		reason   string
		mentions string
	}{
		{name: "admin", policies: []string{s3ReadOnly, adminAccess}, reason: core.ReasonPolicyNotAllowed, mentions: adminAccess},
		{name: "invalid", policies: []string{s3ReadOnly, "not-an-arn"}, reason: core.ReasonInvalidPolicies, mentions: "not-an-arn"},
		{name: "too-many", policies: elevenPolicies(), reason: core.ReasonInvalidPolicies, mentions: "11 policies"},
	}
	for _, tt := range refusals {
		t.Run(tt.name+": refused, nothing applied", func(t *testing.T) {
			sa := createServiceAccount(t, ns, tt.name, tt.policies...)
			assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeWarning, tt.reason), tt.mentions)
			assert.Nil(t, getRole(t, roleName(sa)), "no role")
			assert.Empty(t, get(t, sa).Finalizers)
		})
	}

	t.Run("AdministratorAccess added to an existing role changes nothing", func(t *testing.T) {
		sa := createServiceAccount(t, ns, "escalation", s3ReadOnly)
		waitForRole(t, sa, s3ReadOnly)
		update(t, sa, func(sa *corev1.ServiceAccount) {
			sa.Annotations[core.PoliciesAnnotation] = sqsReadOnly + "," + adminAccess
		})
		waitForEvent(t, sa, corev1.EventTypeWarning, core.ReasonPolicyNotAllowed)
		assert.Equal(t, []string{s3ReadOnly}, attachedPolicies(t, roleName(sa)), "not even the allowed policy is applied")
	})
}

func elevenPolicies() []string {
	policies := make([]string, 11)
	for i := range policies {
		policies[i] = "arn:aws:iam::123456789012:policy/team-policy-" + string(rune('a'+i))
	}
	return policies
}

func TestPermissionsBoundary(t *testing.T) {
	boundary, err := bed.Emulator.CreatePolicy("IRSABoundary",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","sqs:Receive*"],"Resource":"*"}]}`)
	require.NoError(t, err)
	ns := newNamespace(t)

	// A role created before the boundary was configured gets it too.
	stopFirst := startOperator(t, nil)
	before := createServiceAccount(t, ns, "before", s3ReadOnly)
	waitForRole(t, before, s3ReadOnly)
	stopFirst()

	withBoundary := func(cfg *operator.Config) { cfg.PermissionsBoundary = boundary }
	runOperator(t, ns, withBoundary)
	after := createServiceAccount(t, ns, "after", s3ReadOnly)

	for _, sa := range []*corev1.ServiceAccount{before, after} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			role := getRole(c, roleName(sa))
			if assert.NotNil(c, role) && assert.NotNil(c, role.PermissionsBoundary) {
				assert.Equal(c, boundary, aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn))
			}
		}, timeout, poll)
	}
	assert.Contains(t, waitForEvent(t, before, corev1.EventTypeNormal, core.ReasonBoundaryUpdated), boundary)
}

func TestForeignRoleIsNeverTouched(t *testing.T) {
	ns := newNamespace(t)
	runOperator(t, ns, nil)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "squatted", Namespace: ns}}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	_, err := iamClient(t).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String(roleName(sa)), Path: aws.String(rolePath), AssumeRolePolicyDocument: aws.String(trust),
	})
	require.NoError(t, err)
	calls := markCalls()

	sa = createServiceAccount(t, ns, sa.Name, s3ReadOnly)
	assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeWarning, core.ReasonRoleConflict), roleName(sa))
	require.NoError(t, bed.Client.Delete(context.Background(), sa))
	requireGone(t, sa)

	assert.Empty(t, iamWrites(operatorCallsSince(calls)), "no IAM write at all")
	role := getRole(t, roleName(sa))
	require.NotNil(t, role, "the foreign role survives the ServiceAccount")
	assert.Empty(t, role.Tags)
	assert.Empty(t, attachedPolicies(t, roleName(sa)))
	document, err := url.QueryUnescape(aws.ToString(role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	assert.JSONEq(t, trust, document)
	_, err = iamClient(t).DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: role.RoleName})
	require.NoError(t, err)
}

func TestMissingOIDCProvider(t *testing.T) {
	ns := newNamespace(t)
	runOperator(t, ns, func(cfg *operator.Config) { cfg.OIDCIssuer = "https://oidc.unregistered.example.com/id/0123" })
	calls := markCalls()

	sa := createServiceAccount(t, ns, "orphan", s3ReadOnly)

	assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeWarning, core.ReasonOIDCProviderNotFound), "oidc.unregistered.example.com/id/0123")
	assert.Empty(t, iamWrites(operatorCallsSince(calls)), "no role nobody could assume")
	assert.Empty(t, get(t, sa).Finalizers)
}

func TestInvalidConfigurationStopsTheStart(t *testing.T) {
	for name, mutate := range map[string]func(*operator.Config){
		"role path":    func(cfg *operator.Config) { cfg.RolePath = "k8s-aws-operator" },
		"cluster name": func(cfg *operator.Config) { cfg.ClusterName = "prod cluster!" },
		"issuer":       func(cfg *operator.Config) { cfg.OIDCIssuer = "http://oidc.example.com" },
		"boundary":     func(cfg *operator.Config) { cfg.PermissionsBoundary = "arn:aws:iam::123456789012:role/not-a-policy" },
		"max policies": func(cfg *operator.Config) { cfg.MaxPolicies = 21 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := testbed.OperatorConfig()
			require.NoError(t, err)
			mutate(cfg)
			_, err = bed.StartOperator(cfg)
			assert.ErrorContains(t, err, "IAM controller configuration")
		})
	}
}

func TestNoClusterNameNoIAMController(t *testing.T) {
	cfg, err := testbed.OperatorConfig()
	require.NoError(t, err)
	cfg.ClusterName = ""
	op, err := bed.StartOperator(cfg)
	require.NoError(t, err, "SsmConfigs are still served")
	require.NoError(t, op.Stop())
	assert.Contains(t, testbed.Logs.String(), "ServiceAccount IAM controller disabled: --cluster-name")
}
