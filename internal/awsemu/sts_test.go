package awsemu

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testIssuer is an OIDC issuer served over TLS on loopback the way a
// kube-apiserver serves its service-account issuer: issuer
// https://127.0.0.1:<port>/, discovery document at
// /.well-known/openid-configuration, keys at /openid/v1/jwks.
type testIssuer struct {
	url    string
	key    crypto.Signer
	kid    string
	server *httptest.Server
}

// rsaKeys are generated once: 2048-bit generation dominates test time.
var rsaKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return keys, err
		}
		keys[i] = key
	}
	return keys, nil
})

// testRSAKey returns the issuers' key (0) or a forger's key (1).
func testRSAKey(t *testing.T, which int) *rsa.PrivateKey {
	t.Helper()
	keys, err := rsaKeys()
	require.NoError(t, err)
	return keys[which]
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	issuer := &testIssuer{key: testRSAKey(t, 0), kid: "key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer.url, "jwks_uri": issuer.server.URL + "/openid/v1/jwks"})
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(issuer.jwks(t))
	})
	issuer.server = httptest.NewTLSServer(mux)
	t.Cleanup(issuer.server.Close)
	issuer.url = issuer.server.URL + "/" // kube-apiserver issuers end in a slash
	return issuer
}

func (i *testIssuer) jwks(t *testing.T) []byte {
	keySet := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: i.key.Public(), KeyID: i.kid, Use: "sig", Algorithm: i.algorithm()}}}
	out, err := json.Marshal(keySet)
	require.NoError(t, err)
	return out
}

func (i *testIssuer) algorithm() string {
	if _, ok := i.key.(*ecdsa.PrivateKey); ok {
		return string(jose.ES256)
	}
	return string(jose.RS256)
}

// token signs claims with key (the issuer's own unless forging).
func (i *testIssuer) token(t *testing.T, claims jwt.Claims, key crypto.Signer) string {
	t.Helper()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(i.algorithm()), Key: jose.JSONWebKey{Key: key, KeyID: i.kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	require.NoError(t, err)
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return token
}

const (
	serviceAccountSubject = "system:serviceaccount:apps:reader"
	stsAudience           = "sts.amazonaws.com"
)

// claims are valid at the fake clock's now for an hour.
func (i *testIssuer) claims(env *testEnv, subject string, audience ...string) jwt.Claims {
	now := env.clock.Now()
	return jwt.Claims{
		Issuer:    i.url,
		Subject:   subject,
		Audience:  audience,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(time.Hour)),
	}
}

// webIdentityFixture registers the issuer and a role trusting it for one
// service account, and returns the role ARN.
func webIdentityFixture(t *testing.T, env *testEnv, issuer *testIssuer, trustCondition string) string {
	t.Helper()
	providerARN, err := env.emu.CreateOIDCProvider(issuer.url, []string{stsAudience})
	require.NoError(t, err)
	host := issuerHost(issuer.url)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + strings.ReplaceAll(trustCondition, "HOST", host) + `}]}`
	out, err := env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("irsa"), AssumeRolePolicyDocument: aws.String(trust)})
	require.NoError(t, err)
	return aws.ToString(out.Role.Arn)
}

const exactTrust = `{"StringEquals":{"HOST:sub":"` + serviceAccountSubject + `","HOST:aud":"` + stsAudience + `"}}`

func newWebIdentityEnv(t *testing.T) (*testEnv, *testIssuer) {
	t.Helper()
	issuer := newTestIssuer(t)
	return newTestEnv(t, Options{HTTPClient: issuer.server.Client()}), issuer
}

func assume(t *testing.T, env *testEnv, roleARN, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return env.sts.AssumeRoleWithWebIdentity(ctx(t), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("session-1"), WebIdentityToken: aws.String(token),
	})
}

func TestSTSGetCallerIdentity(t *testing.T) {
	env := newTestEnv(t, Options{AccountID: "111122223333", CallerARN: "arn:aws:iam::111122223333:user/ci", CallerUserID: "AIDACI"})
	out, err := env.sts.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "111122223333", aws.ToString(out.Account))
	assert.Equal(t, "arn:aws:iam::111122223333:user/ci", aws.ToString(out.Arn))
	assert.Equal(t, "AIDACI", aws.ToString(out.UserId))
}

func TestSTSAssumeRoleWithWebIdentity(t *testing.T) {
	env, issuer := newWebIdentityEnv(t)
	roleARN := webIdentityFixture(t, env, issuer, exactTrust)

	out, err := assume(t, env, roleARN, issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key))
	require.NoError(t, err)
	creds := out.Credentials
	assert.Regexp(t, `^ASIA[A-Z2-7]{16}$`, aws.ToString(creds.AccessKeyId))
	assert.Len(t, aws.ToString(creds.SecretAccessKey), 40)
	assert.NotEmpty(t, aws.ToString(creds.SessionToken))
	assert.Equal(t, env.clock.Now().Add(time.Hour), creds.Expiration.UTC())
	assert.Equal(t, "arn:aws:sts::123456789012:assumed-role/irsa/session-1", aws.ToString(out.AssumedRoleUser.Arn))
	assert.Regexp(t, `^AROA[A-Z2-7]{17}:session-1$`, aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	assert.Equal(t, serviceAccountSubject, aws.ToString(out.SubjectFromWebIdentityToken))
	assert.Equal(t, stsAudience, aws.ToString(out.Audience))
	assert.Equal(t, "arn:aws:iam::123456789012:oidc-provider/"+strings.TrimSuffix(strings.TrimPrefix(issuer.url, "https://"), "/"), aws.ToString(out.Provider))

	// The issued credentials identify as the assumed role.
	cfg := sdkConfig(aws.NopRetryer{})
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(env.sts, roleARN, staticToken(issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key))))
	asRole := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(env.url) })
	identity, err := asRole.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Regexp(t, `^arn:aws:sts::123456789012:assumed-role/irsa/\d+$`, aws.ToString(identity.Arn))

	role, err := env.iam.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("irsa")})
	require.NoError(t, err)
	require.NotNil(t, role.Role.RoleLastUsed)
	assert.Equal(t, env.clock.Now(), role.Role.RoleLastUsed.LastUsedDate.UTC())
}

type staticToken string

func (s staticToken) GetIdentityToken() ([]byte, error) { return []byte(s), nil }

func TestSTSAssumeRoleWithWebIdentityRejections(t *testing.T) {
	env, issuer := newWebIdentityEnv(t)
	roleARN := webIdentityFixture(t, env, issuer, exactTrust)
	forger := testRSAKey(t, 1)
	stranger := newTestIssuer(t)

	expired := issuer.claims(env, serviceAccountSubject, stsAudience)
	expired.Expiry = jwt.NewNumericDate(env.clock.Now().Add(-time.Second))
	notYet := issuer.claims(env, serviceAccountSubject, stsAudience)
	notYet.NotBefore = jwt.NewNumericDate(env.clock.Now().Add(time.Minute))

	for name, tc := range map[string]struct {
		roleARN string
		token   string
		check   func(t *testing.T, err error)
	}{
		"other subject": {roleARN, issuer.token(t, issuer.claims(env, "system:serviceaccount:apps:other", stsAudience), issuer.key), func(t *testing.T, err error) {
			requireAPIErrorCode(t, err, "AccessDenied")
			assert.Contains(t, err.Error(), "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		}},
		"wrong audience": {roleARN, issuer.token(t, issuer.claims(env, serviceAccountSubject, "someone-else"), issuer.key), func(t *testing.T, err error) {
			var invalid *ststypes.InvalidIdentityTokenException
			require.ErrorAs(t, err, &invalid)
			assert.Equal(t, "Incorrect token audience", invalid.ErrorMessage())
		}},
		"expired": {roleARN, issuer.token(t, expired, issuer.key), func(t *testing.T, err error) {
			var expiredErr *ststypes.ExpiredTokenException
			require.ErrorAs(t, err, &expiredErr)
		}},
		"not yet valid": {roleARN, issuer.token(t, notYet, issuer.key), func(t *testing.T, err error) {
			var invalid *ststypes.InvalidIdentityTokenException
			require.ErrorAs(t, err, &invalid)
		}},
		"forged signature": {roleARN, issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), forger), func(t *testing.T, err error) {
			var invalid *ststypes.InvalidIdentityTokenException
			require.ErrorAs(t, err, &invalid)
		}},
		"unknown issuer": {roleARN, stranger.token(t, stranger.claims(env, serviceAccountSubject, stsAudience), stranger.key), func(t *testing.T, err error) {
			var invalid *ststypes.InvalidIdentityTokenException
			require.ErrorAs(t, err, &invalid)
			assert.Contains(t, invalid.ErrorMessage(), "No OpenIDConnect provider found")
		}},
		"not a JWT": {roleARN, "not-a-token", func(t *testing.T, err error) {
			var invalid *ststypes.InvalidIdentityTokenException
			require.ErrorAs(t, err, &invalid)
		}},
		"unknown role": {"arn:aws:iam::123456789012:role/nope", issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key), func(t *testing.T, err error) {
			requireAPIErrorCode(t, err, "AccessDenied")
		}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := assume(t, env, tc.roleARN, tc.token)
			tc.check(t, err)
		})
	}
}

func TestSTSTrustPolicyConditions(t *testing.T) {
	for name, tc := range map[string]struct {
		condition string
		subject   string
		allowed   bool
	}{
		"StringLike wildcard":        {`{"StringLike":{"HOST:sub":"system:serviceaccount:apps:*"}}`, serviceAccountSubject, true},
		"StringLike single char":     {`{"StringLike":{"HOST:sub":"system:serviceaccount:apps:reade?"}}`, serviceAccountSubject, true},
		"StringLike other ns":        {`{"StringLike":{"HOST:sub":"system:serviceaccount:ops:*"}}`, serviceAccountSubject, false},
		"StringEquals list":          {`{"StringEquals":{"HOST:sub":["a","` + serviceAccountSubject + `"]}}`, serviceAccountSubject, true},
		"condition keys ignore case": {`{"StringEquals":{"HOST:SUB":"` + serviceAccountSubject + `"}}`, serviceAccountSubject, true},
		"StringNotEquals":            {`{"StringNotEquals":{"HOST:sub":"` + serviceAccountSubject + `"}}`, serviceAccountSubject, false},
		"missing key":                {`{"StringEquals":{"HOST:amr":"x"}}`, serviceAccountSubject, false},
		"missing key IfExists":       {`{"StringEqualsIfExists":{"HOST:amr":"x"}}`, serviceAccountSubject, true},
	} {
		t.Run(name, func(t *testing.T) {
			env, issuer := newWebIdentityEnv(t)
			roleARN := webIdentityFixture(t, env, issuer, tc.condition)
			_, err := assume(t, env, roleARN, issuer.token(t, issuer.claims(env, tc.subject, stsAudience), issuer.key))
			if tc.allowed {
				require.NoError(t, err)
			} else {
				requireAPIErrorCode(t, err, "AccessDenied")
			}
		})
	}
}

func TestSTSExplicitDenyWins(t *testing.T) {
	env, issuer := newWebIdentityEnv(t)
	providerARN, err := env.emu.CreateOIDCProvider(issuer.url, []string{stsAudience})
	require.NoError(t, err)
	host := issuerHost(issuer.url)
	trust := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},"Action":["sts:AssumeRoleWithWebIdentity"]},
	  {"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{"StringLike":{"` + host + `:sub":"*:reader"}}}]}`
	out, err := env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("denied"), AssumeRolePolicyDocument: aws.String(trust)})
	require.NoError(t, err)

	_, err = assume(t, env, aws.ToString(out.Role.Arn), issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key))
	requireAPIErrorCode(t, err, "AccessDenied")
	_, err = assume(t, env, aws.ToString(out.Role.Arn), issuer.token(t, issuer.claims(env, "system:serviceaccount:apps:writer", stsAudience), issuer.key))
	require.NoError(t, err)
}

func TestSTSWebIdentityWithECKeysAndStaticResolver(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	issuer := &testIssuer{url: "https://issuer.example/", key: key, kid: "ec"}
	env := newTestEnv(t, Options{JWKSResolver: StaticJWKSResolver(map[string][]byte{"https://issuer.example": issuer.jwks(t)})})
	roleARN := webIdentityFixture(t, env, issuer, `{"StringEquals":{"issuer.example:sub":"`+serviceAccountSubject+`"}}`)

	_, err = assume(t, env, roleARN, issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), key))
	require.NoError(t, err)
}

func TestSTSAssumeRoleWithWebIdentityLimits(t *testing.T) {
	env, issuer := newWebIdentityEnv(t)
	roleARN := webIdentityFixture(t, env, issuer, exactTrust)
	token := issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key)

	_, err := env.sts.AssumeRoleWithWebIdentity(ctx(t), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s"), WebIdentityToken: aws.String(token), DurationSeconds: aws.Int32(7200),
	})
	requireAPIErrorCode(t, err, "ValidationError")

	_, err = env.sts.AssumeRoleWithWebIdentity(ctx(t), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ok"), WebIdentityToken: aws.String(token),
		Policy: aws.String(`{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`),
	})
	var malformed *ststypes.MalformedPolicyDocumentException
	require.ErrorAs(t, err, &malformed)

	// A role that has not propagated yet cannot be assumed.
	env.emu.SetIAMEventualConsistency(time.Minute)
	anyFederated := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`
	_, err = env.iam.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("late"), AssumeRolePolicyDocument: aws.String(anyFederated)})
	require.NoError(t, err)
	lateARN := "arn:aws:iam::123456789012:role/late"
	_, err = assume(t, env, lateARN, token)
	requireAPIErrorCode(t, err, "AccessDenied")
	env.clock.Advance(time.Minute)
	_, err = assume(t, env, lateARN, issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key))
	require.NoError(t, err)
}

func TestSTSUnreachableJWKS(t *testing.T) {
	issuer := newTestIssuer(t)
	env := newTestEnv(t, Options{}) // the default client does not trust the issuer's certificate
	roleARN := webIdentityFixture(t, env, issuer, exactTrust)
	_, err := assume(t, env, roleARN, issuer.token(t, issuer.claims(env, serviceAccountSubject, stsAudience), issuer.key))
	var invalid *ststypes.InvalidIdentityTokenException
	require.ErrorAs(t, err, &invalid)
	assert.Contains(t, invalid.ErrorMessage(), "Couldn't retrieve verification key")
}
