package irsa

import (
	"errors"
	"fmt"
	"slices"
)

// Guardrails limit which policies ServiceAccount owners may request. Anyone
// who can create a ServiceAccount can ask for any policy, so the operator, not
// the requester, decides what is grantable.
//
// Deny is a safety net for well-known admin policies only: a customer-managed
// policy can grant the same power under another name. Use Allow and a
// permissions boundary to actually cap what roles can do.
type Guardrails struct {
	// Allow holds ARN glob patterns ('*', '?'); empty allows every policy
	// that no Deny pattern matches.
	Allow []string
	// Deny holds ARN glob patterns that are refused even if allowed.
	Deny []string
	// PermissionsBoundary is the managed policy ARN set as every role's
	// permissions boundary; empty sets none.
	PermissionsBoundary string
	// RequireBoundary makes a missing PermissionsBoundary a configuration error.
	RequireBoundary bool
	// MaxPolicies is the per-role policy count limit, 1..MaxPoliciesLimit.
	MaxPolicies int
}

// defaultDeny refuses the AWS managed policies that grant account-wide admin
// or IAM control. "arn:*:" covers every partition, including future ones.
var defaultDeny = []string{
	"arn:*:iam::aws:policy/AdministratorAccess",
	"arn:*:iam::aws:policy/IAMFullAccess",
	"arn:*:iam::aws:policy/PowerUserAccess",
}

// DefaultGuardrails allow any policy except the well-known admin ones, with
// IAM's default policy quota and no boundary.
func DefaultGuardrails() Guardrails {
	return Guardrails{
		Deny:        slices.Clone(defaultDeny),
		MaxPolicies: DefaultMaxPolicies,
	}
}

// Validate reports every configuration problem at once.
func (g Guardrails) Validate() error {
	var problems []error
	if g.MaxPolicies < 1 || g.MaxPolicies > MaxPoliciesLimit {
		problems = append(problems, fmt.Errorf("MaxPolicies must be between 1 and %d, got %d", MaxPoliciesLimit, g.MaxPolicies))
	}
	if g.RequireBoundary && g.PermissionsBoundary == "" {
		problems = append(problems, errors.New("RequireBoundary is set but PermissionsBoundary is empty"))
	}
	if g.PermissionsBoundary != "" {
		if err := ValidatePolicyARN(g.PermissionsBoundary); err != nil {
			problems = append(problems, fmt.Errorf("PermissionsBoundary: %w", err))
		}
	}
	problems = append(problems, emptyPatternErrors("Allow", g.Allow)...)
	problems = append(problems, emptyPatternErrors("Deny", g.Deny)...)
	return errors.Join(problems...)
}

// emptyPatternErrors flags empty patterns, which match nothing and so are
// almost certainly a templating mistake.
func emptyPatternErrors(field string, patterns []string) []error {
	var problems []error
	for i, pattern := range patterns {
		if pattern == "" {
			problems = append(problems, fmt.Errorf("%s[%d] is an empty pattern", field, i))
		}
	}
	return problems
}

// Check splits policy ARNs into those the guardrails allow and those they
// refuse, each in input order. Deny wins over Allow.
func (g Guardrails) Check(arns []string) (allowed, refused []string) {
	for _, a := range arns {
		if g.permits(a) {
			allowed = append(allowed, a)
		} else {
			refused = append(refused, a)
		}
	}
	return allowed, refused
}

func (g Guardrails) permits(policyARN string) bool {
	if matchesAny(g.Deny, policyARN) {
		return false
	}
	return len(g.Allow) == 0 || matchesAny(g.Allow, policyARN)
}

func matchesAny(patterns []string, s string) bool {
	return slices.ContainsFunc(patterns, func(pattern string) bool { return globMatch(pattern, s) })
}
