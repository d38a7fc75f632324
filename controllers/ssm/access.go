package ssm

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
)

// AllowedPathsAnnotation on a Namespace lists the SSM name prefixes its SsmConfigs may read. Only
// cluster admins can edit Namespaces, so a namespace's users cannot widen their own access.
const AllowedPathsAnnotation = "ssm.aws.605.tv/allowed-paths"

// AccessPolicy decides which SSM names a namespace may read. Entries ending in "/" are prefixes,
// other entries are exact names; "{namespace}" stands for the namespace's name.
type AccessPolicy struct {
	// Default applies to namespaces without the annotation; empty means no restriction.
	Default []string
}

// allowedEntries returns the entries that apply to ns, or nil when every name is allowed.
func (p AccessPolicy) allowedEntries(ns *corev1.Namespace) []string {
	entries := p.Default
	if value, ok := ns.Annotations[AllowedPathsAnnotation]; ok {
		entries = strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
		if len(entries) == 0 {
			// An annotation present but empty is an explicit "nothing", not "everything".
			return []string{}
		}
	}
	if entries == nil {
		return nil
	}
	resolved := make([]string, len(entries))
	for i, entry := range entries {
		resolved[i] = strings.ReplaceAll(entry, "{namespace}", ns.Name)
	}
	return resolved
}

// deniedNames lists the spec's names and paths that ns may not read.
func (p AccessPolicy) deniedNames(ns *corev1.Namespace, spec *ssmv1alpha1.SsmConfigSpec) []string {
	entries := p.allowedEntries(ns)
	if entries == nil {
		return nil
	}
	var denied []string
	for _, key := range spec.SsmKeys {
		if name := baseName(string(key)); !nameAllowed(entries, name) {
			denied = append(denied, string(key))
		}
	}
	for _, path := range spec.SsmPaths {
		if !pathAllowed(entries, path.Path) {
			denied = append(denied, path.Path)
		}
	}
	return denied
}

func nameAllowed(entries []string, name string) bool {
	for _, entry := range entries {
		if entry == name || (strings.HasSuffix(entry, "/") && strings.HasPrefix(name, entry)) {
			return true
		}
	}
	return false
}

// pathAllowed holds when everything under path is under one allowed prefix.
func pathAllowed(entries []string, path string) bool {
	path = strings.TrimSuffix(path, "/") + "/"
	for _, entry := range entries {
		if strings.HasSuffix(entry, "/") && strings.HasPrefix(path, entry) {
			return true
		}
	}
	return false
}
