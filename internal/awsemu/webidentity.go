package awsemu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWKSResolver returns the JSON Web Key Set (RFC 7517) with which the OIDC
// issuer issuerURL (a token's exact "iss") signs its tokens.
type JWKSResolver func(ctx context.Context, issuerURL string) ([]byte, error)

const maxDiscoveryBytes = 1 << 20

// DiscoveryJWKSResolver resolves key sets as STS does: it reads
// <issuer>/.well-known/openid-configuration and fetches its jwks_uri. For a
// kube-apiserver issuer, pass a client that trusts the cluster CA (and
// authenticates, unless anonymous discovery is allowed).
func DiscoveryJWKSResolver(client *http.Client) JWKSResolver {
	return func(ctx context.Context, issuerURL string) ([]byte, error) {
		discovery, err := fetch(ctx, client, strings.TrimSuffix(issuerURL, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return nil, err
		}
		var config struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(discovery, &config); err != nil || config.JWKSURI == "" {
			return nil, fmt.Errorf("OIDC discovery document of %s has no jwks_uri", issuerURL)
		}
		return fetch(ctx, client, config.JWKSURI)
	}
}

// StaticJWKSResolver serves fixed key sets by issuer URL; a trailing slash
// in either the key or the token's issuer does not matter.
func StaticJWKSResolver(keySetsByIssuer map[string][]byte) JWKSResolver {
	byHost := map[string][]byte{}
	for issuer, keySet := range keySetsByIssuer {
		byHost[issuerHost(issuer)] = keySet
	}
	return func(_ context.Context, issuerURL string) ([]byte, error) {
		if keySet, ok := byHost[issuerHost(issuerURL)]; ok {
			return keySet, nil
		}
		return nil, fmt.Errorf("no key set for issuer %s", issuerURL)
	}
}

func fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	// kube-apiserver serves its key set only as application/jwk-set+json.
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes))
}

func invalidIdentityToken(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, "InvalidIdentityToken", format, args...)
}

// signatureAlgorithms are the JWS algorithms STS accepts from OIDC issuers.
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512,
}

// webIdentity is a verified web identity token.
type webIdentity struct {
	issuer   string
	subject  string
	audience string // the token audience registered with the provider
	provider oidcProvider
}

// verifyWebIdentity checks a token as STS does: a registered issuer, a
// signature by one of its keys, the validity window and an audience that is
// one of the provider's client IDs.
func (s *stsService) verifyWebIdentity(ctx context.Context, token string) (webIdentity, *apiError) {
	parsed, err := jwt.ParseSigned(token, signatureAlgorithms)
	if err != nil {
		return webIdentity{}, invalidIdentityToken("The web identity token that was passed could not be parsed: %v", err)
	}
	var unverified jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer == "" {
		return webIdentity{}, invalidIdentityToken("The web identity token that was passed has no valid issuer claim.")
	}
	provider, ok := s.iam.providerForIssuer(unverified.Issuer)
	if !ok {
		return webIdentity{}, invalidIdentityToken("No OpenIDConnect provider found in your account for %s", unverified.Issuer)
	}
	keySetJSON, err := s.resolveJWKS(ctx, unverified.Issuer)
	var keySet jose.JSONWebKeySet
	if err == nil {
		err = json.Unmarshal(keySetJSON, &keySet)
	}
	if err != nil {
		return webIdentity{}, invalidIdentityToken("Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements")
	}
	claims, verified := verifySignature(parsed, keySet)
	if !verified {
		return webIdentity{}, invalidIdentityToken("The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
	}

	now := s.env.now()
	switch {
	case claims.Expiry == nil:
		return webIdentity{}, invalidIdentityToken("The web identity token that was passed has no expiration claim.")
	case !now.Before(claims.Expiry.Time()):
		return webIdentity{}, newAPIError(http.StatusBadRequest, "ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), claims.Expiry.Time().Unix())
	case claims.NotBefore != nil && now.Before(claims.NotBefore.Time()):
		return webIdentity{}, invalidIdentityToken("Token is not valid yet: current date/time %d must be after the not-before date/time %d", now.Unix(), claims.NotBefore.Time().Unix())
	case claims.Subject == "":
		return webIdentity{}, invalidIdentityToken("The web identity token that was passed has no subject claim.")
	}
	for _, audience := range claims.Audience {
		if slices.Contains(provider.clientIDs, audience) {
			return webIdentity{issuer: claims.Issuer, subject: claims.Subject, audience: audience, provider: provider}, nil
		}
	}
	return webIdentity{}, invalidIdentityToken("Incorrect token audience")
}

// verifySignature tries the key named by the token's kid, or every key when
// the token names none.
func verifySignature(token *jwt.JSONWebToken, keySet jose.JSONWebKeySet) (jwt.Claims, bool) {
	candidates := keySet.Keys
	if len(token.Headers) > 0 && token.Headers[0].KeyID != "" {
		candidates = keySet.Key(token.Headers[0].KeyID)
	}
	for _, key := range candidates {
		var claims jwt.Claims
		if err := token.Claims(key.Key, &claims); err == nil {
			return claims, true
		}
	}
	return jwt.Claims{}, false
}
