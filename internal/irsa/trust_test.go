package irsa

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testProviderARN = "arn:aws:iam::524458042105:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

func TestTrustPolicy(t *testing.T) {
	trust, err := TrustPolicy(testProviderARN, testIssuer+"/", "payments", "api")
	require.NoError(t, err)

	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(trust), &doc))
	host := "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	assert.Equal(t, map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": testProviderARN},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				host + ":sub": "system:serviceaccount:payments:api",
				host + ":aud": "sts.amazonaws.com",
			}},
		}},
	}, doc)
}

func TestTrustPolicyRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, provider, issuer, namespace, sa string
	}{
		{"http issuer", testProviderARN, "http://oidc.example.com", "ns", "sa"},
		{"issuer without scheme", testProviderARN, "oidc.example.com", "ns", "sa"},
		{"issuer without host", testProviderARN, "https://", "ns", "sa"},
		{"empty provider", "", testIssuer, "ns", "sa"},
		{"empty namespace", testProviderARN, testIssuer, "", "sa"},
		{"empty service account", testProviderARN, testIssuer, "ns", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := TrustPolicy(tt.provider, tt.issuer, tt.namespace, tt.sa)

			assert.Error(t, err)
		})
	}
}

func TestIssuerHostPath(t *testing.T) {
	tests := map[string]string{
		"https://oidc.eks.us-east-1.amazonaws.com/id/ABC":  "oidc.eks.us-east-1.amazonaws.com/id/ABC",
		"https://oidc.eks.us-east-1.amazonaws.com/id/ABC/": "oidc.eks.us-east-1.amazonaws.com/id/ABC",
		"https://issuer.example.com":                       "issuer.example.com",
	}
	for issuer, want := range tests {
		t.Run(issuer, func(t *testing.T) {
			assert.Equal(t, want, IssuerHostPath(issuer))
		})
	}
}

func TestTrustPoliciesEquivalent(t *testing.T) {
	generated := trustFor(t, "payments", "api")
	host := IssuerHostPath(testIssuer)
	// variant replaces one fragment of the generated policy.
	variant := func(old, replacement string) string {
		require.Contains(t, generated, old)
		return strings.Replace(generated, old, replacement, 1)
	}
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "identical", a: generated, b: generated, want: true},
		{name: "reordered keys and whitespace", a: generated, b: reformattedTrust(t), want: true},
		{name: "URL-encoded as GetRole returns it", a: url.QueryEscape(generated), b: generated, want: true},
		{name: "URL-encoded with %20 spaces", a: url.PathEscape(reformattedTrust(t)), b: generated, want: true},
		{name: "action as list", a: generated, b: variant(`"Action":"sts:AssumeRoleWithWebIdentity"`, `"Action":["sts:AssumeRoleWithWebIdentity"]`), want: true},
		{name: "duplicate values", a: generated, b: variant(`"Action":"sts:AssumeRoleWithWebIdentity"`, `"Action":["sts:AssumeRoleWithWebIdentity","sts:AssumeRoleWithWebIdentity"]`), want: true},
		{name: "Sid ignored", a: generated, b: variant(`"Effect"`, `"Sid":"IRSA","Effect"`), want: true},
		{name: "statement order", a: twoStatements("A", "B"), b: twoStatements("B", "A"), want: true},
		{name: "missing Version means 2008-10-17", a: `{"Statement":[]}`, b: `{"Version":"2008-10-17","Statement":[]}`, want: true},
		{name: "condition values as numbers and strings", a: `{"Statement":{"Effect":"Allow","Condition":{"NumericLessThan":{"k":5}}}}`, b: `{"Statement":{"Effect":"Allow","Condition":{"NumericLessThan":{"k":["5"]}}}}`, want: true},
		{name: "different sub", a: generated, b: trustFor(t, "payments", "other"), want: false},
		{name: "different namespace", a: generated, b: trustFor(t, "other", "api"), want: false},
		{name: "different audience", a: generated, b: variant(`"sts.amazonaws.com"`, `"other.example.com"`), want: false},
		{name: "sub condition dropped", a: generated, b: variant(`,"`+host+`:sub":"system:serviceaccount:payments:api"`, ""), want: false},
		{name: "StringLike instead of StringEquals", a: generated, b: variant("StringEquals", "StringLike"), want: false},
		{name: "different principal", a: generated, b: variant(`"Federated":"`, `"Federated":"x`), want: false},
		{name: "different effect", a: generated, b: variant(`"Allow"`, `"Deny"`), want: false},
		{name: "different version", a: `{"Statement":[]}`, b: `{"Version":"2012-10-17","Statement":[]}`, want: false},
		{name: "extra statement", a: twoStatements("A", "A"), b: twoStatements("A", "B"), want: false},
		{name: "unknown key kept", a: generated, b: variant(`"Effect"`, `"Future":1,"Effect"`), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equivalent, err := TrustPoliciesEquivalent(tt.a, tt.b)
			require.NoError(t, err)
			assert.Equal(t, tt.want, equivalent)

			reverse, err := TrustPoliciesEquivalent(tt.b, tt.a)
			require.NoError(t, err)
			assert.Equal(t, equivalent, reverse, "must be symmetric")
		})
	}
}

func twoStatements(firstAction, secondAction string) string {
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:` + firstAction + `"},` +
		`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:` + secondAction + `"}]}`
}

func TestTrustPoliciesEquivalentRejectsMalformedDocuments(t *testing.T) {
	tests := map[string]string{
		"empty":                   "",
		"not JSON":                "{nope",
		"bad URL encoding":        "%zz",
		"JSON array":              "[]",
		"null":                    "null",
		"trailing data":           `{"Statement":[]} {}`,
		"missing Statement":       `{"Version":"2012-10-17"}`,
		"statement not an object": `{"Statement":["x"]}`,
		"nested value in Action":  `{"Statement":{"Action":{"a":"b"}}}`,
		"condition not an object": `{"Statement":{"Condition":"x"}}`,
		"principal list":          `{"Statement":{"Principal":["x"]}}`,
	}
	for name, document := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := TrustPoliciesEquivalent(document, trustFor(t, "ns", "sa"))

			assert.Error(t, err)
		})
	}
}
