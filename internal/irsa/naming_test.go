package irsa

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var validRoleName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// TestRoleNameIsStable pins the naming scheme: changing it would orphan every
// role the operator has already created.
func TestRoleNameIsStable(t *testing.T) {
	// 6db4f789 = first 8 hex of sha256("4:prod8:payments3:api").
	assert.Equal(t, "prod-payments-api-6db4f789", RoleName("prod", "payments", "api"))
}

func TestRoleName(t *testing.T) {
	longNamespace := strings.Repeat("n", 63)
	longSA := strings.Repeat("s", 253)
	tests := []struct {
		name       string
		cluster    string
		namespace  string
		sa         string
		wantPrefix string
	}{
		{name: "readable when short", cluster: "prod", namespace: "payments", sa: "api", wantPrefix: "prod-payments-api-"},
		{name: "dots kept", cluster: "prod", namespace: "ns", sa: "app.v2", wantPrefix: "prod-ns-app.v2-"},
		{name: "invalid characters replaced", cluster: "eu/prod:1", namespace: "ns", sa: "sa", wantPrefix: "eu-prod-1-ns-sa-"},
		{name: "non-ASCII replaced per rune", cluster: "prød", namespace: "ns", sa: "sa", wantPrefix: "pr-d-ns-sa-"},
		{name: "very long namespace and SA truncated", cluster: "prod", namespace: longNamespace, sa: longSA, wantPrefix: ("prod-" + longNamespace)[:55]},
		{name: "empty components still valid", wantPrefix: "---"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := RoleName(tt.cluster, tt.namespace, tt.sa)

			assert.Regexp(t, validRoleName, name)
			assert.True(t, strings.HasPrefix(name, tt.wantPrefix), "%q should start with %q", name, tt.wantPrefix)
			assert.Equal(t, name, RoleName(tt.cluster, tt.namespace, tt.sa), "must be deterministic")
		})
	}
}

func TestRoleNameIsUnique(t *testing.T) {
	long := strings.Repeat("x", 100)
	triples := [][3]string{
		{"a-b", "c", "d"},
		{"a", "b-c", "d"},
		{"a", "b", "c-d"},
		{"prod", "ns", "sa"},
		{"Prod", "ns", "sa"}, // IAM role names are case-insensitive
		{"prod/eu", "ns", "sa"},
		{"prod:eu", "ns", "sa"}, // same sanitized prefix as above
		{"prod", long, long + "1"},
		{"prod", long, long + "2"}, // differs only after truncation
		{"prod", long + "1", long},
		{"", "", ""},
		{"1:a", "", ""}, // length prefixes must not be forgeable
		{"", "1:a", ""},
	}
	seen := map[string][3]string{}
	for _, triple := range triples {
		name := strings.ToLower(RoleName(triple[0], triple[1], triple[2]))
		previous, dup := seen[name]
		require.False(t, dup, "%v and %v both map to %q", previous, triple, name)
		seen[name] = triple
	}
}

func TestValidateRolePath(t *testing.T) {
	tests := []struct {
		path    string
		wantErr bool
	}{
		{path: "/"},
		{path: "/k8s-aws-operator/"},
		{path: "/a/b/c/"},
		{path: "/" + strings.Repeat("a", 510) + "/"},
		{path: "", wantErr: true},
		{path: "k8s/", wantErr: true},
		{path: "/k8s", wantErr: true},
		{path: "/with space/", wantErr: true},
		{path: "/tab\t/", wantErr: true},
		{path: "/" + strings.Repeat("a", 511) + "/", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := ValidateRolePath(tt.path)

			assert.Equal(t, tt.wantErr, err != nil, "error: %v", err)
		})
	}
}
