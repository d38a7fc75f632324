package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeAWS answers GetCallerIdentity and GetOpenIDConnectProvider and counts the calls.
type fakeAWS struct {
	stsErr         error
	providerExists bool
	identityCalls  int
	providerCalls  int
}

func (f *fakeAWS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.identityCalls++
	if f.stsErr != nil {
		return nil, f.stsErr
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012"), Arn: aws.String("arn:aws:iam::123456789012:role/operator")}, nil
}

func (f *fakeAWS) GetOpenIDConnectProvider(_ context.Context, in *iam.GetOpenIDConnectProviderInput, _ ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error) {
	f.providerCalls++
	if !f.providerExists || aws.ToString(in.OpenIDConnectProviderArn) != testProviderARN {
		return nil, &types.NoSuchEntityException{Message: aws.String("not found")}
	}
	return &iam.GetOpenIDConnectProviderOutput{}, nil
}

func newDiscovery(aws *fakeAWS, issuer string, clock *clocktesting.FakePassiveClock) *Discovery {
	return &Discovery{
		STS:    aws,
		IAM:    aws,
		Issuer: func(context.Context) (string, error) { return issuer, nil },
		Clock:  clock,
	}
}

func TestDiscoveryCachesWhatItFound(t *testing.T) {
	fake := &fakeAWS{providerExists: true}
	d := newDiscovery(fake, testIssuer, clocktesting.NewFakePassiveClock(time.Now()))

	for range 3 {
		provider, err := d.Provider(context.Background())
		require.NoError(t, err)
		assert.Equal(t, OIDCProvider{ARN: testProviderARN, IssuerURL: testIssuer}, provider)
	}
	assert.Equal(t, 1, fake.identityCalls)
	assert.Equal(t, 1, fake.providerCalls)
}

func TestDiscoveryRechecksAMissingProvider(t *testing.T) {
	fake := &fakeAWS{}
	clock := clocktesting.NewFakePassiveClock(time.Now())
	d := newDiscovery(fake, testIssuer, clock)

	_, err := d.Provider(context.Background())
	var missing *ProviderNotFoundError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, testProviderARN, missing.ARN)

	fake.providerExists = true
	_, err = d.Provider(context.Background())
	require.ErrorAs(t, err, &missing, "a missing provider is remembered for a while")
	assert.Equal(t, 1, fake.providerCalls)

	clock.SetTime(clock.Now().Add(missingProviderCacheTTL))
	_, err = d.Provider(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, fake.providerCalls)
}

func TestDiscoveryFailures(t *testing.T) {
	tests := []struct {
		name   string
		fake   *fakeAWS
		issuer string
	}{
		{name: "STS down", fake: &fakeAWS{stsErr: errors.New("connection refused")}, issuer: testIssuer},
		{name: "issuer is not https", fake: &fakeAWS{}, issuer: "http://oidc.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDiscovery(tt.fake, tt.issuer, clocktesting.NewFakePassiveClock(time.Now()))
			for range 2 {
				_, err := d.Provider(context.Background())
				require.Error(t, err)
				assert.NotErrorAs(t, err, new(*ProviderNotFoundError))
			}
			assert.Equal(t, 2, tt.fake.identityCalls, "failures are not cached")
		})
	}
}
