package awsemu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// Tokens issued by a real kube-apiserver's TokenRequest API assume a role only when the role's
// trust policy names their ServiceAccount and audience: the emulator checks the signature against
// the apiserver's own JWKS, then the trust policy's conditions.
func TestAssumeRoleWithWebIdentityFromKubeAPIServerTokens(t *testing.T) {
	bed, err := testbed.Start()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, bed.Stop()) })
	ctx := context.Background()

	cfg, err := config.LoadDefaultConfig(ctx) // testbed points AWS_ENDPOINT_URL at the emulator
	require.NoError(t, err)
	account, err := irsa.DiscoverAccount(ctx, sts.NewFromConfig(cfg))
	require.NoError(t, err)
	providerARN := irsa.OIDCProviderARN(account.Partition, account.AccountID, bed.Issuer)
	trust, err := irsa.TrustPolicy(providerARN, bed.Issuer, "team", "app-a")
	require.NoError(t, err)
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("app-a"), AssumeRolePolicyDocument: aws.String(trust),
	})
	require.NoError(t, err)

	require.NoError(t, bed.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}))
	token := func(sa string, audience string, lifetime time.Duration) string {
		account := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: "team"}}
		_ = bed.Client.Create(ctx, account)
		request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			Audiences: []string{audience}, ExpirationSeconds: ptr.To(int64(lifetime.Seconds())),
		}}
		require.NoError(t, bed.Client.SubResource("token").Create(ctx, account, request))
		return request.Status.Token
	}
	// AssumeRoleWithWebIdentity is unsigned, as the SDK's web identity provider calls it.
	anonymous := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	assume := func(tok string) error {
		_, err := anonymous.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: role.Role.Arn, RoleSessionName: aws.String("test"), WebIdentityToken: aws.String(tok),
		})
		return err
	}

	require.NoError(t, assume(token("app-a", irsa.WebIdentityAudience, time.Hour)), "the named ServiceAccount assumes the role")

	cases := []struct {
		name     string
		token    string
		wantCode string
	}{
		{name: "another ServiceAccount", token: token("app-b", irsa.WebIdentityAudience, time.Hour), wantCode: "AccessDenied"},
		{name: "wrong audience", token: token("app-a", "vault", time.Hour), wantCode: "InvalidIdentityToken"},
		{name: "forged signature", token: forge(token("app-a", irsa.WebIdentityAudience, time.Hour)), wantCode: "InvalidIdentityToken"},
		{name: "not a token", token: "not-a-jwt", wantCode: "InvalidIdentityToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := assume(tc.token)
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.wantCode, apiErr.ErrorCode(), fmt.Sprint(err))
		})
	}
}

// forge flips a character of the token's signature.
func forge(token string) string {
	b := []byte(token)
	last := len(b) - 2
	if b[last] == 'A' {
		b[last] = 'B'
	} else {
		b[last] = 'A'
	}
	return string(b)
}
