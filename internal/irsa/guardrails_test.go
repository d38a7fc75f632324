package irsa

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDefaultGuardrailsRefuseAdminPoliciesInEveryPartition(t *testing.T) {
	g := DefaultGuardrails()
	for _, partition := range knownPartitions {
		for _, name := range []string{"AdministratorAccess", "IAMFullAccess", "PowerUserAccess", "administratoraccess"} {
			policy := "arn:" + partition + ":iam::aws:policy/" + name
			t.Run(policy, func(t *testing.T) {
				allowed, refused := g.Check([]string{policy})

				assert.Empty(t, allowed)
				assert.Equal(t, []string{policy}, refused)
			})
		}
	}
}

func TestGuardrailsCheck(t *testing.T) {
	customerAdmin := "arn:aws:iam::524458042105:policy/AdministratorAccess"
	tests := []struct {
		name        string
		guardrails  Guardrails
		arns        []string
		wantAllowed []string
		wantRefused []string
	}{
		{
			name:        "defaults allow ordinary policies",
			guardrails:  DefaultGuardrails(),
			arns:        []string{ssmPolicy, s3Policy, adminPolicy},
			wantAllowed: []string{ssmPolicy, s3Policy},
			wantRefused: []string{adminPolicy},
		},
		{
			name:        "defaults only deny the AWS managed admin policies",
			guardrails:  DefaultGuardrails(),
			arns:        []string{customerAdmin},
			wantAllowed: []string{customerAdmin},
		},
		{
			name:        "allow-list glob spans path separators",
			guardrails:  Guardrails{Allow: []string{"arn:aws:iam::524458042105:policy/*"}},
			arns:        []string{ssmPolicy, "arn:aws:iam::524458042105:policy/team/app", s3Policy},
			wantAllowed: []string{ssmPolicy, "arn:aws:iam::524458042105:policy/team/app"},
			wantRefused: []string{s3Policy},
		},
		{
			name:        "allow-list with prefix and single-character globs",
			guardrails:  Guardrails{Allow: []string{"arn:aws:iam::*:policy/605-*", "arn:aws:iam::aws:policy/AmazonS?ReadOnlyAccess"}},
			arns:        []string{ssmPolicy, s3Policy, sqsPolicy},
			wantAllowed: []string{ssmPolicy, s3Policy},
			wantRefused: []string{sqsPolicy},
		},
		{
			name:        "deny wins over allow",
			guardrails:  Guardrails{Allow: []string{"*"}, Deny: []string{"*:policy/605-*"}},
			arns:        []string{ssmPolicy, s3Policy},
			wantAllowed: []string{s3Policy},
			wantRefused: []string{ssmPolicy},
		},
		{
			name:       "nothing to check",
			guardrails: DefaultGuardrails(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed, refused := tt.guardrails.Check(tt.arns)

			assert.Equal(t, tt.wantAllowed, allowed)
			assert.Equal(t, tt.wantRefused, refused)
		})
	}
}

func TestDefaultGuardrailsDoNotShareState(t *testing.T) {
	first := DefaultGuardrails()
	first.Deny[0] = "changed"

	assert.Equal(t, defaultDeny, DefaultGuardrails().Deny)
}

func TestGuardrailsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Guardrails)
		wantErr bool
	}{
		{name: "defaults", change: func(*Guardrails) {}},
		{name: "boundary required and set", change: func(g *Guardrails) { g.RequireBoundary, g.PermissionsBoundary = true, boundaryA }},
		{name: "raised quota", change: func(g *Guardrails) { g.MaxPolicies = 20 }},
		{name: "boundary required but missing", change: func(g *Guardrails) { g.RequireBoundary = true }, wantErr: true},
		{name: "boundary not a policy ARN", change: func(g *Guardrails) { g.PermissionsBoundary = "arn:aws:iam::524458042105:role/x" }, wantErr: true},
		{name: "zero quota", change: func(g *Guardrails) { g.MaxPolicies = 0 }, wantErr: true},
		{name: "quota above IAM's limit", change: func(g *Guardrails) { g.MaxPolicies = 21 }, wantErr: true},
		{name: "empty allow pattern", change: func(g *Guardrails) { g.Allow = []string{""} }, wantErr: true},
		{name: "empty deny pattern", change: func(g *Guardrails) { g.Deny = append(g.Deny, "") }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := DefaultGuardrails()
			tt.change(&g)

			err := g.Validate()

			assert.Equal(t, tt.wantErr, err != nil, "error: %v", err)
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "arn:aws:iam::aws:policy/a/b", true},
		{"arn:*:iam::aws:policy/X", "arn:aws-us-gov:iam::aws:policy/X", true},
		{"arn:*:iam::aws:policy/X", "arn:aws:iam::aws:policy/XY", false},
		{"*/X", "a/b/c/X", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"**a", "bbba", true},
		{"ABC", "abc", true},
		{"a*", "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			assert.Equal(t, tt.want, globMatch(tt.pattern, tt.s))
		})
	}
}
