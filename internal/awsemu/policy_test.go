package awsemu

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolicyGrammar(t *testing.T) {
	valid := []struct {
		kind     policyKind
		document string
	}{
		{identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
		{identityPolicy, `{"Statement":[{"Sid":"x","Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b/*"}]}`},
		{identityPolicy, `{"Version":"2008-10-17","Id":"p","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10}}}]}`},
		{trustPolicy, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`},
		{trustPolicy, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ForAnyValue:StringLikeIfExists":{"k":["a*"]},"Null":{"x":"true"}}}]}`},
	}
	for _, tc := range valid {
		_, err := parsePolicy(tc.document, tc.kind)
		assert.Nil(t, err, tc.document)
	}

	invalid := []struct {
		kind     policyKind
		document string
		message  string
	}{
		{identityPolicy, `nope`, "This policy contains invalid Json"},
		{identityPolicy, `{"Statement":[]} trailing`, "This policy contains invalid Json"},
		{identityPolicy, `{"Version":"2012-10-17"}`, "Syntax errors in policy."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}]}`, "Syntax errors in policy."},
		{identityPolicy, `{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, "Syntax errors in policy."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, "Policy statement must contain actions."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]}`, "Syntax errors in policy."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "Syntax errors in policy."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Action":"s3 Get","Resource":"*"}]}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"nested":1}}}}]}`, "Syntax errors in policy."},
		{identityPolicy, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Sometimes":{"k":"v"}}}]}`, "Invalid Condition type : Sometimes"},
		{trustPolicy, `{"Statement":[{"Effect":"Allow","NotPrincipal":"*","Action":"sts:AssumeRole"}]}`, "Has prohibited field NotPrincipal"},
		{trustPolicy, `{"Statement":[{"Effect":"Allow","Principal":"someone","Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "someone"`},
		{trustPolicy, `{"Statement":[{"Effect":"Allow","Principal":{"Human":"me"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "Human"`},
	}
	for _, tc := range invalid {
		_, err := parsePolicy(tc.document, tc.kind)
		require.NotNil(t, err, tc.document)
		assert.Equal(t, "MalformedPolicyDocument", err.code, tc.document)
		assert.Equal(t, tc.message, err.message, tc.document)
	}
}

func TestConditionOperators(t *testing.T) {
	keys := map[string][]string{
		"k":    {"Value-1"},
		"n":    {"5"},
		"d":    {"2026-01-02T03:04:05Z"},
		"ip":   {"10.1.2.3"},
		"b":    {"true"},
		"arn":  {"arn:aws:iam::123456789012:role/app"},
		"many": {"a", "b"},
	}
	for _, tc := range []struct {
		operator string
		key      string
		values   []string
		holds    bool
	}{
		{"StringEquals", "k", []string{"Value-1"}, true},
		{"StringEquals", "k", []string{"value-1"}, false},
		{"StringEqualsIgnoreCase", "k", []string{"value-1"}, true},
		{"StringNotEqualsIgnoreCase", "k", []string{"value-1"}, false},
		{"StringLike", "k", []string{"Val*-?"}, true},
		{"StringNotLike", "k", []string{"x*"}, true},
		{"StringNotEquals", "absent", []string{"x"}, true},
		{"StringEquals", "absent", []string{"x"}, false},
		{"StringEqualsIfExists", "absent", []string{"x"}, true},
		{"NumericLessThan", "n", []string{"6"}, true},
		{"NumericGreaterThanEquals", "n", []string{"6"}, false},
		{"NumericNotEquals", "n", []string{"5"}, false},
		{"NumericEquals", "n", []string{"five"}, false},
		{"DateGreaterThan", "d", []string{"2026-01-01T00:00:00Z"}, true},
		{"DateLessThanEquals", "d", []string{"1767323045"}, true},
		{"IpAddress", "ip", []string{"10.0.0.0/8"}, true},
		{"NotIpAddress", "ip", []string{"10.0.0.0/8"}, false},
		{"IpAddress", "ip", []string{"10.1.2.3"}, true},
		{"Bool", "b", []string{"True"}, true},
		{"ArnLike", "arn", []string{"arn:aws:iam::*:role/*"}, true},
		{"ArnNotEquals", "arn", []string{"arn:aws:iam::*:role/app"}, false},
		{"BinaryEquals", "k", []string{"Value-1"}, true},
		{"Null", "absent", []string{"true"}, true},
		{"Null", "k", []string{"true"}, false},
		{"Null", "k", []string{"false"}, true},
		{"ForAnyValue:StringEquals", "many", []string{"b"}, true},
		{"ForAllValues:StringEquals", "many", []string{"a"}, false},
		{"ForAllValues:StringEquals", "many", []string{"a", "b"}, true},
		{"ForAllValues:StringEquals", "absent", []string{"a"}, true},
	} {
		cond := condition{operator: tc.operator, key: tc.key, values: tc.values}
		assert.Equal(t, tc.holds, cond.holds(keys), "%s %s %v", tc.operator, tc.key, tc.values)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		match      bool
	}{
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*:reader", "system:serviceaccount:apps:reader", true},
		{"sts:*", "sts:AssumeRoleWithWebIdentity", true},
		{"é?", "éè", true},
	} {
		assert.Equal(t, tc.match, globMatch(tc.pattern, tc.s), "%q ~ %q", tc.pattern, tc.s)
	}
}

func TestPolicySizeIgnoresWhitespace(t *testing.T) {
	assert.Equal(t, 7, policySize("{ \"a\" :\n\t1 }"))
}
