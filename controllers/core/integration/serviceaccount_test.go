package integration

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/605-tv/k8s-aws-operator/controllers/core"
	"github.com/605-tv/k8s-aws-operator/internal/irsa"
)

// seedManifest is the ServiceAccount, verbatim.
const seedManifest = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: airflow-iam-serviceaccount
  namespace: airflow
  labels:
    type: "iam"
  annotations:
    attachedPolicies: >
      arn:aws:iam::524458042105:policy/605-SSM-Dev-ReadOnly,
      arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
`

const seedAccount = "524458042105"

var customerPolicy struct {
	once sync.Once
	arn  string
	err  error
}

// seedCustomerPolicy creates the seed's customer managed policy in the emulator, once per run.
func seedCustomerPolicy(t *testing.T) string {
	t.Helper()
	customerPolicy.once.Do(func() {
		customerPolicy.arn, customerPolicy.err = bed.Emulator.CreatePolicy("605-SSM-Dev-ReadOnly",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:GetParameter*"],"Resource":"*"}]}`)
	})
	require.NoError(t, customerPolicy.err)
	return customerPolicy.arn
}

// applySeedManifest creates the seed's ServiceAccount. The emulator owns customer policies in its
// own account, so the manifest's account is swapped for it when they differ.
func applySeedManifest(t *testing.T, customerPolicyARN string) *corev1.ServiceAccount {
	t.Helper()
	parsed, err := arn.Parse(customerPolicyARN)
	require.NoError(t, err)
	sa := &corev1.ServiceAccount{}
	require.NoError(t, yaml.Unmarshal([]byte(strings.ReplaceAll(seedManifest, seedAccount, parsed.AccountID)), sa))
	require.True(t, strings.HasSuffix(sa.Annotations[core.PoliciesAnnotation], "\n"), "folded YAML keeps its trailing newline")
	require.NoError(t, bed.Client.Create(context.Background(), sa))
	return sa
}

func TestSeedServiceAccountGetsARoleOnlyItCanAssume(t *testing.T) {
	createNamespace(t, "airflow")
	runOperator(t, "airflow", nil)
	customARN := seedCustomerPolicy(t)

	sa := applySeedManifest(t, customARN)
	role := waitForRole(t, sa, customARN, s3ReadOnly)

	assert.Equal(t, roleName(sa), aws.ToString(role.RoleName))
	assert.Equal(t, rolePath, aws.ToString(role.Path))
	assertTrustPolicy(t, role, "system:serviceaccount:airflow:airflow-iam-serviceaccount")
	assert.Equal(t, map[string]string{
		irsa.TagKeyCluster:        cluster,
		irsa.TagKeyNamespace:      "airflow",
		irsa.TagKeyServiceAccount: "airflow-iam-serviceaccount",
		irsa.TagKeyManagedBy:      irsa.ManagerName,
	}, tagMap(role.Tags))
	assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonRoleCreated), aws.ToString(role.Arn))
	attached := waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonPoliciesAttached)
	assert.Contains(t, attached, customARN)
	assert.Contains(t, attached, s3ReadOnly)

	t.Run("a token of the ServiceAccount assumes the role", func(t *testing.T) {
		out, err := assumeRole(t, role, tokenFor(t, sa))
		require.NoError(t, err)
		assert.Contains(t, aws.ToString(out.AssumedRoleUser.Arn), ":assumed-role/"+roleName(sa)+"/")
		assert.Equal(t, "system:serviceaccount:airflow:airflow-iam-serviceaccount", aws.ToString(out.SubjectFromWebIdentityToken))
	})
	t.Run("a token of any other ServiceAccount cannot", func(t *testing.T) {
		other := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "airflow-worker", Namespace: "airflow"}}
		require.NoError(t, bed.Client.Create(context.Background(), other))
		_, err := assumeRole(t, role, tokenFor(t, other))
		var apiErr smithy.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
	})
}

// assertTrustPolicy parses the role's trust policy: only the cluster's provider, only web identity,
// only this subject and the STS audience.
func assertTrustPolicy(t *testing.T, role *iamtypes.Role, subject string) {
	t.Helper()
	document, err := url.QueryUnescape(aws.ToString(role.AssumeRolePolicyDocument))
	require.NoError(t, err)
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
	issuer := irsa.IssuerHostPath(bed.Issuer)
	assert.Equal(t, "Allow", statement.Effect)
	assert.Equal(t, map[string]string{"Federated": irsa.OIDCProviderARN("aws", "123456789012", bed.Issuer)}, statement.Principal)
	assert.Equal(t, "sts:AssumeRoleWithWebIdentity", statement.Action)
	assert.Equal(t, map[string]map[string]string{"StringEquals": {
		issuer + ":sub": subject,
		issuer + ":aud": "sts.amazonaws.com",
	}}, statement.Condition)
}

func tagMap(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, tag := range tags {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

// tokenFor asks the API server for a token of the ServiceAccount, as the kubelet does for the
// projected token the EKS pod identity webhook mounts.
func tokenFor(t *testing.T, sa *corev1.ServiceAccount) string {
	t.Helper()
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{irsa.WebIdentityAudience}}}
	require.NoError(t, bed.Client.SubResource("token").Create(context.Background(), sa, request))
	return request.Status.Token
}

func assumeRole(t *testing.T, role *iamtypes.Role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return anonymousSTS(t).AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          role.Arn,
		RoleSessionName:  aws.String("integration-test"),
		WebIdentityToken: aws.String(token),
	})
}

func TestServiceAccountLifecycle(t *testing.T) {
	ns := newNamespace(t)
	runOperator(t, ns, nil)

	t.Run("policies are attached and detached in place", func(t *testing.T) {
		sa := createServiceAccount(t, ns, "app", s3ReadOnly)
		created := waitForRole(t, sa, s3ReadOnly)

		update(t, sa, func(sa *corev1.ServiceAccount) {
			sa.Annotations[core.PoliciesAnnotation] = sqsReadOnly + " " + seedCustomerPolicy(t)
		})

		updated := waitForRole(t, sa, sqsReadOnly, seedCustomerPolicy(t))
		assert.Equal(t, aws.ToString(created.RoleId), aws.ToString(updated.RoleId), "the role is changed, never recreated")
		assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonPoliciesDetached), s3ReadOnly)
		assert.Contains(t, waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonPoliciesAttached), sqsReadOnly)
	})

	t.Run("a removed role ARN annotation is restored", func(t *testing.T) {
		sa := createServiceAccount(t, ns, "restored", s3ReadOnly)
		waitForRole(t, sa, s3ReadOnly)
		update(t, sa, func(sa *corev1.ServiceAccount) { delete(sa.Annotations, core.RoleARNAnnotation) })
		waitForRole(t, sa, s3ReadOnly)
	})

	for name, unselect := range map[string]func(*corev1.ServiceAccount){
		"label removed":      func(sa *corev1.ServiceAccount) { delete(sa.Labels, core.SelectorLabel) },
		"annotation removed": func(sa *corev1.ServiceAccount) { delete(sa.Annotations, core.PoliciesAnnotation) },
	} {
		t.Run(name+": role deleted, ServiceAccount released", func(t *testing.T) {
			sa := createServiceAccount(t, ns, strings.ReplaceAll(name, " ", "-"), s3ReadOnly)
			waitForRole(t, sa, s3ReadOnly)
			update(t, sa, unselect)
			waitForRelease(t, sa)
			waitForEvent(t, sa, corev1.EventTypeNormal, core.ReasonRoleDeleted)
		})
	}

	t.Run("ServiceAccount deleted: the finalizer deletes the role first", func(t *testing.T) {
		sa := createServiceAccount(t, ns, "deleted", s3ReadOnly, sqsReadOnly)
		waitForRole(t, sa, s3ReadOnly, sqsReadOnly)
		require.NoError(t, bed.Client.Delete(context.Background(), sa))
		requireGone(t, sa)
		assert.Nil(t, getRole(t, roleName(sa)))
	})

	t.Run("a name too long for IAM is truncated and stays unique", func(t *testing.T) {
		long := strings.Repeat("very-long-service-account-name-", 8) + "x"
		sa := createServiceAccount(t, ns, long, s3ReadOnly)
		role := waitForRole(t, sa, s3ReadOnly)
		assert.Len(t, aws.ToString(role.RoleName), irsa.MaxRoleNameLength)
		assert.Equal(t, long, tagMap(role.Tags)[irsa.TagKeyServiceAccount])
		_, err := assumeRole(t, role, tokenFor(t, sa))
		assert.NoError(t, err, "the trust policy names the full ServiceAccount")
	})
}
