package irsa

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

const (
	// MaxRoleNameLength is IAM's limit for role names.
	MaxRoleNameLength = 64
	// maxPathLength is IAM's limit for role and policy paths.
	maxPathLength = 512
	// roleNameHashLength is the number of hex digits of the identity hash that
	// end every role name.
	roleNameHashLength = 8
)

// rolePathPattern is IAM's own pattern for paths: "/" or "/<printable ASCII>/".
var rolePathPattern = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)

// RoleName returns the IAM role name for a ServiceAccount.
//
// The name is a readable prefix "<cluster>-<namespace>-<serviceAccount>",
// with characters IAM rejects replaced by '-' and truncated to fit, followed
// by '-' and 8 hex digits of a SHA-256 over the exact, unambiguously encoded
// triple. The hash is always present because the readable part alone is not
// unique: '-' is legal inside every component ("a-b"/"c" vs "a"/"b-c"), IAM
// compares role names case-insensitively ("Prod" vs "prod"), and truncation
// or character replacement merge distinct inputs. A hash collision would still
// be caught by the ownership tags (RoleConflictError), never silently shared.
func RoleName(cluster, namespace, serviceAccount string) string {
	prefix := sanitizeIAMName(cluster + "-" + namespace + "-" + serviceAccount)
	maxPrefix := MaxRoleNameLength - 1 - roleNameHashLength
	if len(prefix) > maxPrefix {
		prefix = prefix[:maxPrefix]
	}
	return prefix + "-" + identityHash(cluster, namespace, serviceAccount)
}

// identityHash length-prefixes each component so that no two distinct
// triples (whatever bytes they contain) hash the same input.
func identityHash(components ...string) string {
	var encoded strings.Builder
	for _, c := range components {
		encoded.WriteString(strconv.Itoa(len(c)))
		encoded.WriteByte(':')
		encoded.WriteString(c)
	}
	sum := sha256.Sum256([]byte(encoded.String()))
	return hex.EncodeToString(sum[:])[:roleNameHashLength]
}

// sanitizeIAMName replaces every rune IAM does not allow in names with '-'.
func sanitizeIAMName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && isIAMNameChar(byte(r)) {
			return r
		}
		return '-'
	}, s)
}

// isIAMName reports whether s is 1..maxLen characters of [A-Za-z0-9+=,.@_-],
// the character set IAM allows in role and policy names.
func isIAMName(s string, maxLen int) bool {
	if len(s) == 0 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIAMNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isIAMNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	default:
		return strings.IndexByte("+=,.@_-", c) >= 0
	}
}

// ValidateRolePath checks a role path the way IAM does: "/" or a string that
// starts and ends with '/' and contains only printable ASCII, at most 512
// characters. A dedicated path (e.g. "/k8s-aws-operator/") lets the
// operator's own IAM policy be scoped to the roles it manages.
func ValidateRolePath(path string) error {
	switch {
	case len(path) > maxPathLength:
		return fmt.Errorf("role path is %d characters, IAM allows at most %d", len(path), maxPathLength)
	case !rolePathPattern.MatchString(path):
		return fmt.Errorf(`invalid role path %q: must be "/" or start and end with "/" and contain only printable ASCII`, path)
	}
	return nil
}
