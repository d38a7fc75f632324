package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/605-tv/k8s-aws-operator/internal/irsa"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// operatorPolicyPath is the IAM policy shipped for the operator's own AWS identity.
var operatorPolicyPath = filepath.Join(testbed.RepoRoot(), "docs", "operator-iam-policy.json")

// identityPolicy is the part of the IAM policy grammar the least-privilege check needs.
type identityPolicy struct {
	Statement []policyStatement
}

type policyStatement struct {
	Effect    string
	Action    stringList
	Resource  stringList
	Condition map[string]json.RawMessage
}

// stringList is a JSON string or list of strings, as IAM accepts for Action and Resource.
type stringList []string

func (l *stringList) UnmarshalJSON(data []byte) error {
	var single string
	if json.Unmarshal(data, &single) == nil {
		*l = stringList{single}
		return nil
	}
	return json.Unmarshal(data, (*[]string)(l))
}

func loadOperatorPolicy() (identityPolicy, error) {
	data, err := os.ReadFile(operatorPolicyPath)
	if err != nil {
		return identityPolicy{}, err
	}
	var policy identityPolicy
	return policy, json.Unmarshal(data, &policy)
}

// allows reports whether the policy lets action on resource happen: an Allow statement matches
// both, and no unconditional Deny does. Conditions of Allow statements are assumed to hold, as
// they depend on the request (tags, policy ARN); a conditional Deny is then not a blanket one.
func (p identityPolicy) allows(action, resource string) bool {
	allowed := false
	for _, s := range p.Statement {
		if !s.matches(action, resource) {
			continue
		}
		switch {
		case s.Effect == "Deny" && len(s.Condition) == 0:
			return false
		case s.Effect == "Allow":
			allowed = true
		}
	}
	return allowed
}

func (s policyStatement) matches(action, resource string) bool {
	return matchesAny(s.Action, action, true) && matchesAny(s.Resource, resource, false)
}

// matchesAny matches IAM wildcards: '*' any run of characters, '?' one. Actions ignore case.
func matchesAny(patterns []string, value string, ignoreCase bool) bool {
	return slices.ContainsFunc(patterns, func(pattern string) bool {
		expression := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
		if ignoreCase {
			expression = "(?i)" + expression
		}
		return regexp.MustCompile(expression).MatchString(value)
	})
}

// sampleResource is a resource each action of the operator acts on in this suite: every role is
// under the default role path.
func sampleResource(action string) string {
	const account = "123456789012"
	switch {
	case action == "iam:GetOpenIDConnectProvider":
		return irsa.OIDCProviderARN("aws", account, bed.Issuer)
	case strings.HasPrefix(action, "sts:"):
		return "*"
	default:
		return "arn:aws:iam::" + account + ":role" + rolePath + irsa.RoleName(cluster, "airflow", "airflow-iam-serviceaccount")
	}
}

// operatorActions are the actions the operator called during the whole run.
func operatorActions() []string {
	return slices.Sorted(maps.Keys(operatorCallsSince(callMark{})))
}

// checkOperatorPolicy checks every action the operator called against the shipped policy.
func checkOperatorPolicy() error {
	policy, err := loadOperatorPolicy()
	if err != nil {
		return fmt.Errorf("reading %s: %w", operatorPolicyPath, err)
	}
	actions := operatorActions()
	var problems []error
	for _, action := range actions {
		if resource := sampleResource(action); !policy.allows(action, resource) {
			problems = append(problems, fmt.Errorf("the operator called %s on %s, which %s does not allow", action, resource, operatorPolicyPath))
		}
	}
	if len(problems) == 0 {
		fmt.Fprintf(os.Stderr, "least privilege: %s allows all %d actions the operator called: %s\n",
			filepath.Base(operatorPolicyPath), len(actions), strings.Join(actions, ", "))
	}
	return errors.Join(problems...)
}

func TestOperatorPolicyEvaluation(t *testing.T) {
	policy, err := loadOperatorPolicy()
	require.NoError(t, err)
	role := "arn:aws:iam::123456789012:role/k8s-aws-operator/testbed-ns-sa-12345678"
	tests := []struct {
		action, resource string
		want             bool
	}{
		{"iam:CreateRole", role, true},
		{"iam:DeleteRole", role, true},
		{"IAM:getrole", role, true},
		{"sts:GetCallerIdentity", "*", true},
		{"iam:GetOpenIDConnectProvider", "arn:aws:iam::123456789012:oidc-provider/oidc.example.com", true},
		{"iam:CreateRole", "arn:aws:iam::123456789012:role/admin", false},
		{"iam:GetRole", "arn:aws:iam::123456789012:role/other-path/x", false},
		{"iam:CreatePolicy", "arn:aws:iam::123456789012:policy/x", false},
		{"iam:PassRole", role, false},
		{"iam:CreateOpenIDConnectProvider", "arn:aws:iam::123456789012:oidc-provider/oidc.example.com", false},
		{"ssm:GetParameters", "arn:aws:ssm:us-east-1:123456789012:parameter/app/x", true},
		{"ssm:PutParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/app/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.action+" on "+tt.resource, func(t *testing.T) {
			assert.Equal(t, tt.want, policy.allows(tt.action, tt.resource))
		})
	}
}

func TestUnconditionalDenyWins(t *testing.T) {
	policy := identityPolicy{Statement: []policyStatement{
		{Effect: "Allow", Action: stringList{"iam:*"}, Resource: stringList{"*"}},
		{Effect: "Deny", Action: stringList{"iam:DeleteRole"}, Resource: stringList{"*"}},
	}}
	assert.True(t, policy.allows("iam:CreateRole", "r"))
	assert.False(t, policy.allows("iam:DeleteRole", "r"))
}

func TestOperatorPolicyIsValidIAM(t *testing.T) {
	document, err := os.ReadFile(operatorPolicyPath)
	require.NoError(t, err)
	// The emulator validates documents with IAM's grammar and size quota.
	_, err = bed.Emulator.CreatePolicy("K8sAwsOperator", string(document))
	require.NoError(t, err)
}
