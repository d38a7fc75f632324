package irsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

const (
	// WebIdentityAudience is the audience the EKS pod identity webhook puts in
	// projected ServiceAccount tokens.
	WebIdentityAudience = "sts.amazonaws.com"

	policyVersion = "2012-10-17"
	httpsScheme   = "https://"
)

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal"`
	Action    string                       `json:"Action"`
	Condition map[string]map[string]string `json:"Condition"`
}

// TrustPolicy returns the assume-role policy that lets exactly one
// ServiceAccount, and nothing else, assume the role through the cluster's
// OIDC provider. StringEquals (not StringLike) keeps '*' or '?' in names
// literal, and pinning the audience stops tokens minted for other audiences
// from being replayed against STS.
func TrustPolicy(providerARN, issuerURL, namespace, serviceAccount string) (string, error) {
	if providerARN == "" || namespace == "" || serviceAccount == "" {
		return "", errors.New("trust policy needs a provider ARN, a namespace and a ServiceAccount name")
	}
	if err := validateIssuerURL(issuerURL); err != nil {
		return "", err
	}
	issuer := IssuerHostPath(issuerURL)
	doc := policyDocument{
		Version: policyVersion,
		Statement: []policyStatement{{
			Effect:    "Allow",
			Principal: map[string]string{"Federated": providerARN},
			Action:    "sts:AssumeRoleWithWebIdentity",
			Condition: map[string]map[string]string{"StringEquals": {
				issuer + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
				issuer + ":aud": WebIdentityAudience,
			}},
		}},
	}
	encoded, err := json.Marshal(doc)
	return string(encoded), err
}

// IssuerHostPath strips the scheme and any trailing '/' from an issuer URL,
// giving the form IAM uses in OIDC provider ARNs and condition keys.
func IssuerHostPath(issuerURL string) string {
	return strings.TrimSuffix(strings.TrimPrefix(issuerURL, httpsScheme), "/")
}

func validateIssuerURL(issuerURL string) error {
	parsed, err := url.Parse(issuerURL)
	if err != nil || parsed.Scheme != "https" || parsed.Host == "" || !strings.HasPrefix(issuerURL, httpsScheme) {
		return fmt.Errorf("issuer %q must be an https:// URL, as IAM OIDC providers require", issuerURL)
	}
	return nil
}

// TrustPoliciesEquivalent reports whether two policy documents mean the same
// thing. Either may be raw JSON or URL-encoded (GetRole returns
// AssumeRolePolicyDocument URL-encoded). It ignores key order, whitespace,
// statement order, duplicate statements or values, Sid/Id, and the difference
// between a single string and a one-element list; a missing Version counts as
// IAM's default "2008-10-17". Comparing strings instead would report drift on
// every reconcile and rewrite the policy forever.
func TrustPoliciesEquivalent(a, b string) (bool, error) {
	canonicalA, err := canonicalPolicy(a)
	if err != nil {
		return false, fmt.Errorf("first policy: %w", err)
	}
	canonicalB, err := canonicalPolicy(b)
	if err != nil {
		return false, fmt.Errorf("second policy: %w", err)
	}
	return canonicalA == canonicalB, nil
}
