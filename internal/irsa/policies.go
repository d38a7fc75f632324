package irsa

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

const (
	// DefaultMaxPolicies is IAM's default quota of managed policies per role.
	DefaultMaxPolicies = 10
	// MaxPoliciesLimit is the highest value IAM lets that quota be raised to.
	MaxPoliciesLimit = 20

	maxPolicyNameLength = 128
	// maxEntryInError keeps error messages (and the Events built from them)
	// short even when the annotation holds garbage.
	maxEntryInError = 120
)

// knownPartitions are the AWS partitions a policy ARN may name.
var knownPartitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// InvalidPolicyError reports an annotation entry that is not a valid IAM
// managed policy ARN.
type InvalidPolicyError struct {
	Entry  string
	Reason string
}

func (e *InvalidPolicyError) Error() string {
	return fmt.Sprintf("invalid policy ARN %q: %s", abbreviate(e.Entry, maxEntryInError), e.Reason)
}

// TooManyPoliciesError reports more distinct policies than a role may hold.
type TooManyPoliciesError struct {
	Count int
	Max   int
}

func (e *TooManyPoliciesError) Error() string {
	return fmt.Sprintf("%d policies requested, at most %d may be attached to a role", e.Count, e.Max)
}

// ParsePolicyARNs parses the attachedPolicies annotation: policy ARNs
// separated by any mix of commas and whitespace (so folded YAML works), empty
// entries ignored, duplicates removed keeping first-seen order.
//
// Every invalid entry is reported (joined *InvalidPolicyError values) so the
// user can fix them all at once. maxPolicies <= 0 means DefaultMaxPolicies;
// values above MaxPoliciesLimit are capped to it, as IAM would refuse more.
// Because commas separate entries, policy names containing commas cannot be
// referenced.
func ParsePolicyARNs(annotation string, maxPolicies int) ([]string, error) {
	arns := uniqueInOrder(strings.FieldsFunc(annotation, isPolicySeparator))
	var problems []error
	for _, a := range arns {
		if err := ValidatePolicyARN(a); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if limit := effectiveMaxPolicies(maxPolicies); len(arns) > limit {
		return nil, &TooManyPoliciesError{Count: len(arns), Max: limit}
	}
	return arns, nil
}

// ValidatePolicyARN checks that s is arn:<partition>:iam::<account>:policy/<path/>name
// where account is 12 digits or "aws" (AWS managed policies). It returns an
// *InvalidPolicyError.
func ValidatePolicyARN(s string) error {
	if reason := policyARNProblem(s); reason != "" {
		return &InvalidPolicyError{Entry: s, Reason: reason}
	}
	return nil
}

func policyARNProblem(s string) string {
	parsed, err := arn.Parse(s)
	switch {
	case err != nil:
		return "not an ARN, want arn:<partition>:iam::<account>:policy/<name>"
	case !slices.Contains(knownPartitions, parsed.Partition):
		return "unknown partition, want one of " + strings.Join(knownPartitions, ", ")
	case parsed.Service != "iam":
		return `service must be "iam"`
	case parsed.Region != "":
		return "IAM ARNs have no region"
	case parsed.AccountID != "aws" && !isAccountID(parsed.AccountID):
		return `account must be 12 digits or "aws"`
	}
	return policyResourceProblem(parsed.Resource)
}

// policyResourceProblem checks "policy/<path/>name". Path segments are held to
// the name character set: stricter than IAM, but it covers every real policy
// path and keeps glob characters out of ARNs matched by Guardrails.
func policyResourceProblem(resource string) string {
	pathAndName, ok := strings.CutPrefix(resource, "policy/")
	if !ok {
		return `resource must start with "policy/" (a managed policy, not a role or user)`
	}
	segments := strings.Split(pathAndName, "/")
	name := segments[len(segments)-1]
	if !isIAMName(name, maxPolicyNameLength) {
		return "policy name must be 1-128 characters of [A-Za-z0-9+=,.@_-]"
	}
	for _, segment := range segments[:len(segments)-1] {
		if !isIAMName(segment, maxPathLength) {
			return "policy path segments must be non-empty [A-Za-z0-9+=,.@_-]"
		}
	}
	if pathLength := len(pathAndName) - len(name) + 1; pathLength > maxPathLength {
		return fmt.Sprintf("policy path is longer than %d characters", maxPathLength)
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isPolicySeparator(r rune) bool {
	return r == ',' || unicode.IsSpace(r)
}

func uniqueInOrder(items []string) []string {
	seen := make(map[string]bool, len(items))
	unique := make([]string, 0, len(items))
	for _, item := range items {
		if !seen[item] {
			seen[item] = true
			unique = append(unique, item)
		}
	}
	return unique
}

func effectiveMaxPolicies(maxPolicies int) int {
	if maxPolicies <= 0 {
		return DefaultMaxPolicies
	}
	return min(maxPolicies, MaxPoliciesLimit)
}

func abbreviate(s string, maxLen int) string {
	if len(s) <= maxLen {
		return s
	}
	return s[:maxLen] + "..."
}
