package irsa

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeSTS struct {
	out *sts.GetCallerIdentityOutput
	err error
}

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return f.out, f.err
}

func TestDiscoverAccount(t *testing.T) {
	tests := []struct {
		name          string
		callerARN     string
		wantPartition string
	}{
		{"commercial assumed role", "arn:aws:sts::524458042105:assumed-role/operator/session", "aws"},
		{"China", "arn:aws-cn:sts::524458042105:assumed-role/operator/session", "aws-cn"},
		{"GovCloud user", "arn:aws-us-gov:iam::524458042105:user/operator", "aws-us-gov"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fakeSTS{out: &sts.GetCallerIdentityOutput{Account: aws.String(testAccount), Arn: aws.String(tt.callerARN)}}

			info, err := DiscoverAccount(context.Background(), client)

			require.NoError(t, err)
			assert.Equal(t, AccountInfo{AccountID: testAccount, Partition: tt.wantPartition, CallerARN: tt.callerARN}, info)
		})
	}
}

func TestDiscoverAccountErrors(t *testing.T) {
	tests := []struct {
		name   string
		client fakeSTS
	}{
		{"STS fails", fakeSTS{err: &types.ServiceFailureException{}}},
		{"caller ARN garbage", fakeSTS{out: &sts.GetCallerIdentityOutput{Account: aws.String(testAccount), Arn: aws.String("garbage")}}},
		{"account not 12 digits", fakeSTS{out: &sts.GetCallerIdentityOutput{Account: aws.String("123"), Arn: aws.String("arn:aws:sts::123:assumed-role/x/y")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DiscoverAccount(context.Background(), tt.client)

			assert.Error(t, err)
		})
	}
	_, err := DiscoverAccount(context.Background(), tests[0].client)
	assert.ErrorAs(t, err, new(*types.ServiceFailureException))
}

func TestOIDCProviderARN(t *testing.T) {
	tests := []struct {
		partition, issuer, want string
	}{
		{"aws", testIssuer, testProviderARN},
		{"aws", testIssuer + "/", testProviderARN},
		{"aws-cn", "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC", "arn:aws-cn:iam::524458042105:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, OIDCProviderARN(tt.partition, testAccount, tt.issuer))
		})
	}
}

func TestIssuerFromDiscovery(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		want       string
		wantErrMsg string
	}{
		{name: "issuer present", status: http.StatusOK, body: `{"issuer":"` + testIssuer + `","jwks_uri":"x"}`, want: testIssuer},
		{name: "issuer missing", status: http.StatusOK, body: `{"jwks_uri":"x"}`, wantErrMsg: "has no issuer"},
		{name: "issuer not https", status: http.StatusOK, body: `{"issuer":"http://insecure"}`, wantErrMsg: "https://"},
		{name: "not JSON", status: http.StatusOK, body: `<html>`, wantErrMsg: "parse"},
		{name: "forbidden", status: http.StatusForbidden, wantErrMsg: "system:service-account-issuer-discovery"},
		{name: "not found", status: http.StatusNotFound, wantErrMsg: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "/.well-known/openid-configuration", r.URL.Path)
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer server.Close()

			issuer, err := IssuerFromDiscovery(context.Background(), server.Client(), server.URL+"/")

			if tt.wantErrMsg != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErrMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, issuer)
		})
	}
}

func TestIssuerFromDiscoveryUnreachable(t *testing.T) {
	_, err := IssuerFromDiscovery(context.Background(), nil, "http://127.0.0.1:1")

	assert.Error(t, err)
}

type fakeOIDCProviders struct{ err error }

func (f fakeOIDCProviders) GetOpenIDConnectProvider(context.Context, *iam.GetOpenIDConnectProviderInput, ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &iam.GetOpenIDConnectProviderOutput{}, nil
}

func TestProviderExists(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		want    bool
		wantErr bool
	}{
		{name: "exists", want: true},
		{name: "missing", err: &types.NoSuchEntityException{}},
		{name: "other failure", err: &types.ServiceFailureException{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exists, err := ProviderExists(context.Background(), fakeOIDCProviders{err: tt.err}, testProviderARN)

			assert.Equal(t, tt.want, exists)
			if tt.wantErr {
				assert.ErrorAs(t, err, new(*types.ServiceFailureException))
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
