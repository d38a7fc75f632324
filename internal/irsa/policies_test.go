package irsa

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// seedAnnotationYAML is the annotation as users write it: a folded block
// scalar, so the value holds spaces and ends with a newline.
const seedAnnotationYAML = `
attachedPolicies: >
  arn:aws:iam::524458042105:policy/605-SSM-Dev-ReadOnly,
  arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
`

func TestParsePolicyARNsSeedAnnotation(t *testing.T) {
	var annotations map[string]string
	require.NoError(t, yaml.Unmarshal([]byte(seedAnnotationYAML), &annotations))

	arns, err := ParsePolicyARNs(annotations["attachedPolicies"], DefaultMaxPolicies)

	require.NoError(t, err)
	assert.Equal(t, []string{ssmPolicy, s3Policy}, arns)
}

func TestParsePolicyARNs(t *testing.T) {
	tests := []struct {
		name       string
		annotation string
		max        int
		want       []string
	}{
		{name: "empty", annotation: "", want: []string{}},
		{name: "only separators", annotation: " ,\n\t,, ", want: []string{}},
		{name: "folded YAML value", annotation: ssmPolicy + ", " + s3Policy + "\n", want: []string{ssmPolicy, s3Policy}},
		{name: "literal YAML value", annotation: ssmPolicy + ",\n" + s3Policy + "\n", want: []string{ssmPolicy, s3Policy}},
		{name: "whitespace only", annotation: "\t" + ssmPolicy + "\r\n  " + s3Policy, want: []string{ssmPolicy, s3Policy}},
		{name: "empty entries", annotation: ",," + ssmPolicy + ",,," + s3Policy + ",", want: []string{ssmPolicy, s3Policy}},
		{name: "duplicates keep first-seen order", annotation: s3Policy + "," + ssmPolicy + "," + s3Policy, want: []string{s3Policy, ssmPolicy}},
		{name: "path and other partitions", annotation: strings.Join([]string{
			"arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
			"arn:aws-cn:iam::123456789012:policy/team/app/read",
			"arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
			"arn:aws-iso-b:iam::123456789012:policy/x+=.@_-y",
		}, " "), want: []string{
			"arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
			"arn:aws-cn:iam::123456789012:policy/team/app/read",
			"arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
			"arn:aws-iso-b:iam::123456789012:policy/x+=.@_-y",
		}},
		{name: "exactly the default limit", annotation: policyList(10), want: strings.Fields(policyList(10))},
		{name: "raised limit", annotation: policyList(15), max: 20, want: strings.Fields(policyList(15))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arns, err := ParsePolicyARNs(tt.annotation, tt.max)

			require.NoError(t, err)
			assert.Equal(t, tt.want, arns)
		})
	}
}

func TestParsePolicyARNsRejectsInvalidEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry string
	}{
		{"garbage", "not-an-arn"},
		{"non-ASCII garbage", "💥"},
		{"wrong service", "arn:aws:s3:::my-bucket"},
		{"sts instead of iam", "arn:aws:sts::123456789012:policy/x"},
		{"missing account", "arn:aws:iam:::policy/x"},
		{"short account", "arn:aws:iam::12345678901:policy/x"},
		{"account with letters", "arn:aws:iam::12345678901a:policy/x"},
		{"bad partition", "arn:azure:iam::aws:policy/x"},
		{"empty partition", "arn::iam::aws:policy/x"},
		{"region set", "arn:aws:iam:us-east-1:aws:policy/x"},
		{"role instead of policy", "arn:aws:iam::123456789012:role/x"},
		{"empty name", "arn:aws:iam::aws:policy/"},
		{"name too long", "arn:aws:iam::aws:policy/" + strings.Repeat("a", 129)},
		{"invalid name character", "arn:aws:iam::aws:policy/Admin*"},
		{"empty path segment", "arn:aws:iam::aws:policy//x"},
		{"path too long", "arn:aws:iam::aws:policy/" + strings.Repeat("p/", 256) + "x"},
		{"too few sections", "arn:aws:iam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicyARNs(ssmPolicy+","+tt.entry, DefaultMaxPolicies)

			var invalid *InvalidPolicyError
			require.ErrorAs(t, err, &invalid)
			assert.Equal(t, tt.entry, invalid.Entry)
			assert.NotEmpty(t, invalid.Reason)
		})
	}
}

func TestParsePolicyARNsReportsEveryInvalidEntry(t *testing.T) {
	_, err := ParsePolicyARNs("bad-one "+ssmPolicy+" arn:aws:iam::aws:role/bad-two", DefaultMaxPolicies)

	require.Error(t, err)
	assert.Contains(t, err.Error(), `"bad-one"`)
	assert.Contains(t, err.Error(), `"arn:aws:iam::aws:role/bad-two"`)
}

func TestInvalidPolicyErrorAbbreviatesHugeEntries(t *testing.T) {
	err := &InvalidPolicyError{Entry: strings.Repeat("x", 10000), Reason: "garbage"}

	assert.Less(t, len(err.Error()), 200)
}

func TestParsePolicyARNsLimit(t *testing.T) {
	tests := []struct {
		name    string
		count   int
		max     int
		wantMax int
	}{
		{name: "default quota", count: 11, max: 0, wantMax: DefaultMaxPolicies},
		{name: "configured quota", count: 6, max: 5, wantMax: 5},
		{name: "capped at IAM's hard limit", count: 21, max: 50, wantMax: MaxPoliciesLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicyARNs(policyList(tt.count), tt.max)

			var tooMany *TooManyPoliciesError
			require.ErrorAs(t, err, &tooMany)
			assert.Equal(t, TooManyPoliciesError{Count: tt.count, Max: tt.wantMax}, *tooMany)
		})
	}
}

func TestParsePolicyARNsCountsAfterDeduplication(t *testing.T) {
	annotation := policyList(10) + " " + policyList(10)

	arns, err := ParsePolicyARNs(annotation, DefaultMaxPolicies)

	require.NoError(t, err)
	assert.Len(t, arns, 10)
}

// policyList returns n distinct valid policy ARNs separated by spaces.
func policyList(n int) string {
	arns := make([]string, n)
	for i := range arns {
		arns[i] = fmt.Sprintf("arn:aws:iam::123456789012:policy/p%d", i)
	}
	return strings.Join(arns, " ")
}

func FuzzParsePolicyARNs(f *testing.F) {
	var annotations map[string]string
	if err := yaml.Unmarshal([]byte(seedAnnotationYAML), &annotations); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		annotations["attachedPolicies"],
		"",
		",,,",
		policyList(21),
		"arn:aws:iam::aws:policy/a/b/c",
		"arn:aws:iam::123456789012:role/x",
		"arn:::::",
		"arn:aws:iam::aws:policy/\xff",
	} {
		f.Add(seed, 0)
		f.Add(seed, 3)
	}
	f.Fuzz(func(t *testing.T, annotation string, maxPolicies int) {
		arns, err := ParsePolicyARNs(annotation, maxPolicies)
		if err != nil {
			var invalid *InvalidPolicyError
			var tooMany *TooManyPoliciesError
			if !errors.As(err, &invalid) && !errors.As(err, &tooMany) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(arns) > effectiveMaxPolicies(maxPolicies) {
			t.Fatalf("%d policies exceed the limit", len(arns))
		}
		seen := map[string]bool{}
		for _, a := range arns {
			if seen[a] {
				t.Fatalf("duplicate %q", a)
			}
			seen[a] = true
			if err := ValidatePolicyARN(a); err != nil {
				t.Fatalf("returned invalid ARN: %v", err)
			}
			if strings.ContainsAny(a, ", \t\n") {
				t.Fatalf("separator left in %q", a)
			}
		}
	})
}
