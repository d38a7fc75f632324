package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

const (
	// olmOwnerLabel names the CSV that OLM created an RBAC object for.
	olmOwnerLabel = "olm.owner"
	// reviewsTimeout bounds the hundred-odd reviews of one diagnosis.
	reviewsTimeout = time.Minute
)

// testRBACIsWhatTheControllersUse checks, with SubjectAccessReviews for the identity the operator ran
// with, that OLM's RBAC grants what the controllers use and nothing they never do.
func (s *suite) testRBACIsWhatTheControllersUse(t *testing.T) {
	if err := s.rbacDiagnosis(bundleName(s.releases.first)); err != nil {
		t.Fatal(err)
	}
}

// rbacBound is nil when, for each of the CSV's permission sets, OLM has bound a role with exactly its
// rules to the ServiceAccount: cluster-wide with a ClusterRoleBinding, in the operator's namespace
// with a RoleBinding.
func (s *suite) rbacBound(ctx context.Context, csv *operatorsv1alpha1.ClusterServiceVersion) error {
	strategy := csv.Spec.InstallStrategy.StrategySpec
	for _, permission := range strategy.ClusterPermissions {
		if err := s.permissionBound(ctx, csv.Name, "", permission); err != nil {
			return err
		}
	}
	for _, permission := range strategy.Permissions {
		if err := s.permissionBound(ctx, csv.Name, installNamespace, permission); err != nil {
			return err
		}
	}
	return nil
}

// binding is a ClusterRoleBinding or a RoleBinding.
type binding struct {
	subjects []rbacv1.Subject
	role     rbacv1.RoleRef
}

// permissionBound looks among the bindings OLM made for the CSV (cluster-wide when namespace is
// empty) for one that gives the ServiceAccount a role with the permission's rules.
func (s *suite) permissionBound(ctx context.Context, csvName, namespace string, permission operatorsv1alpha1.StrategyDeploymentPermissions) error {
	bindings, err := s.ownedBindings(ctx, csvName, namespace)
	if err != nil {
		return err
	}
	for _, b := range bindings {
		if !bindsServiceAccount(b.subjects, permission.ServiceAccountName) {
			continue
		}
		rules, err := s.roleRules(ctx, namespace, b.role)
		if err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(rules, permission.Rules) {
			return nil
		}
	}
	scope := "ClusterRoleBinding"
	if namespace != "" {
		scope = "RoleBinding in " + namespace
	}
	return fmt.Errorf("no %s labelled %s=%s (of %d) binds a role with the CSV's %d rules to ServiceAccount %s/%s",
		scope, olmOwnerLabel, csvName, len(bindings), len(permission.Rules), installNamespace, permission.ServiceAccountName)
}

// ownedBindings are the bindings OLM labelled as the CSV's: ClusterRoleBindings when namespace is
// empty, else the namespace's RoleBindings.
func (s *suite) ownedBindings(ctx context.Context, csvName, namespace string) ([]binding, error) {
	owned := client.MatchingLabels{olmOwnerLabel: csvName}
	var bindings []binding
	if namespace == "" {
		list := &rbacv1.ClusterRoleBindingList{}
		err := s.admin.List(ctx, list, owned)
		for _, b := range list.Items {
			bindings = append(bindings, binding{b.Subjects, b.RoleRef})
		}
		return bindings, err
	}
	list := &rbacv1.RoleBindingList{}
	err := s.admin.List(ctx, list, owned, client.InNamespace(namespace))
	for _, b := range list.Items {
		bindings = append(bindings, binding{b.Subjects, b.RoleRef})
	}
	return bindings, err
}

func bindsServiceAccount(subjects []rbacv1.Subject, name string) bool {
	for _, s := range subjects {
		if s.Kind == rbacv1.ServiceAccountKind && s.Name == name && s.Namespace == installNamespace {
			return true
		}
	}
	return false
}

func (s *suite) roleRules(ctx context.Context, namespace string, ref rbacv1.RoleRef) ([]rbacv1.PolicyRule, error) {
	if ref.Kind == "ClusterRole" {
		role := &rbacv1.ClusterRole{}
		err := s.admin.Get(ctx, client.ObjectKey{Name: ref.Name}, role)
		return role.Rules, err
	}
	role := &rbacv1.Role{}
	err := s.admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, role)
	return role.Rules, err
}

// access is one request the API server authorizes: a verb on a resource (in one namespace, or in all
// of them or cluster-wide when namespace is empty), or on a non-resource path.
type access struct {
	verb, group, resource, subresource, namespace, path string
}

func (a access) String() string {
	if a.path != "" {
		return a.verb + " " + a.path
	}
	what := a.resource
	if a.subresource != "" {
		what += "/" + a.subresource
	}
	if a.group != "" {
		what += "." + a.group
	}
	if a.namespace != "" {
		what += " in " + a.namespace
	}
	return a.verb + " " + what
}

// rbacSource is RBAC the bundle is generated from: the roles the controllers' markers declare, with
// the namespace the permissions apply in (empty: cluster-wide).
var rbacSource = []struct{ file, namespace string }{
	{"role.yaml", ""},
	{"metrics_auth_role.yaml", ""},
	{"leader_election_role.yaml", installNamespace},
}

// requiredAccess is every request the controllers' RBAC declares.
func requiredAccess() ([]access, error) {
	var required []access
	for _, source := range rbacSource {
		data, err := os.ReadFile(filepath.Join(testbed.RepoRoot(), "config", "rbac", source.file))
		if err != nil {
			return nil, err
		}
		var role struct {
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := yaml.Unmarshal(data, &role); err != nil {
			return nil, fmt.Errorf("config/rbac/%s: %w", source.file, err)
		}
		required = append(required, accessFor(role.Rules, source.namespace)...)
	}
	return required, nil
}

func accessFor(rules []rbacv1.PolicyRule, namespace string) []access {
	var out []access
	for _, rule := range rules {
		for _, verb := range rule.Verbs {
			for _, path := range rule.NonResourceURLs {
				out = append(out, access{verb: verb, path: path})
			}
			for _, group := range rule.APIGroups {
				for _, resource := range rule.Resources {
					resource, subresource, _ := strings.Cut(resource, "/")
					out = append(out, access{verb: verb, group: group, resource: resource, subresource: subresource, namespace: namespace})
				}
			}
		}
	}
	return out
}

// neverUsed are requests no controller makes. Each would let whoever holds the operator's token
// escalate or reach beyond what the operator is for. Not among them: Leases and core Events outside
// the operator's namespace. The CSV asks for those in its own namespace only (permissions), but OLM
// grants an operator installed for all namespaces its namespaced permissions in every namespace.
func neverUsed() []access {
	const rbacGroup, ssmGroup = rbacv1.GroupName, "ssm.aws.605.tv"
	never := []access{
		{verb: "create", group: rbacGroup, resource: "clusterroles"},
		{verb: "escalate", group: rbacGroup, resource: "clusterroles"},
		{verb: "bind", group: rbacGroup, resource: "clusterroles"},
		{verb: "create", group: rbacGroup, resource: "clusterrolebindings"},
		{verb: "create", group: rbacGroup, resource: "rolebindings", namespace: "airflow"},
		{verb: "create", group: rbacGroup, resource: "rolebindings", namespace: installNamespace},
		{verb: "delete", resource: "namespaces"},
		{verb: "impersonate", resource: "users"},
		{verb: "impersonate", resource: "groups"},
		{verb: "impersonate", resource: "serviceaccounts"},
		// ServiceAccounts are only read and annotated; minting their tokens would be impersonation.
		{verb: "create", resource: "serviceaccounts"},
		{verb: "delete", resource: "serviceaccounts"},
		{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: "airflow"},
		// Secrets are created, read, updated and deleted one by one, never patched or deleted in bulk.
		{verb: "patch", resource: "secrets"},
		{verb: "deletecollection", resource: "secrets"},
		// SsmConfigs belong to their users; the operator writes only their status.
		{verb: "create", group: ssmGroup, resource: "ssmconfigs"},
		{verb: "update", group: ssmGroup, resource: "ssmconfigs"},
		{verb: "delete", group: ssmGroup, resource: "ssmconfigs"},
		{verb: "update", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
		{verb: "get", resource: "configmaps"},
		{verb: "get", resource: "nodes"},
		{verb: "create", resource: "pods", subresource: "exec", namespace: "airflow"},
	}
	for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"} {
		never = append(never, access{verb: verb, group: "apps", resource: "deployments"}, access{verb: verb, resource: "pods"})
	}
	return never
}

// rbacDiagnosis is nil when the operator's ServiceAccount, as the API server authenticates its token,
// may make every request the controllers declare and none they never make. Otherwise it names each
// missing and each excess permission.
func (s *suite) rbacDiagnosis(csvName string) error {
	ctx, cancel := context.WithTimeout(context.Background(), reviewsTimeout)
	defer cancel()
	user, err := s.operatorIdentity(ctx)
	if err != nil {
		return err
	}
	required, err := requiredAccess()
	if err != nil {
		return err
	}
	missing, err := s.filterAccess(ctx, user, required, false)
	if err != nil {
		return err
	}
	excess, err := s.filterAccess(ctx, user, neverUsed(), true)
	if err != nil {
		return err
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "it lacks what the controllers use (config/rbac): "+strings.Join(missing, ", "))
	}
	if len(excess) > 0 {
		problems = append(problems, "it grants what the controllers never do: "+strings.Join(excess, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the RBAC OLM created from CSV %s for %s is wrong: %s", csvName, user.Username, strings.Join(problems, "; "))
	}
	return nil
}

// filterAccess returns the accesses that the API server allows (allowed true) or denies (false) user.
func (s *suite) filterAccess(ctx context.Context, user authenticationv1.UserInfo, accesses []access, allowed bool) ([]string, error) {
	var out []string
	for _, a := range accesses {
		review := subjectAccessReview(user, a)
		if err := s.admin.Create(ctx, review); err != nil {
			return nil, fmt.Errorf("reviewing %s: %w", a, err)
		}
		if review.Status.Allowed == allowed {
			out = append(out, a.String())
		}
	}
	return out, nil
}

func subjectAccessReview(user authenticationv1.UserInfo, a access) *authorizationv1.SubjectAccessReview {
	spec := authorizationv1.SubjectAccessReviewSpec{User: user.Username, Groups: user.Groups, UID: user.UID}
	for key, values := range user.Extra {
		if spec.Extra == nil {
			spec.Extra = map[string]authorizationv1.ExtraValue{}
		}
		spec.Extra[key] = authorizationv1.ExtraValue(values)
	}
	if a.path != "" {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.path, Verb: a.verb}
	} else {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
		}
	}
	return &authorizationv1.SubjectAccessReview{Spec: spec}
}

// operatorIdentity is the user, groups and extra the API server makes of a fresh token of the
// operator's ServiceAccount (a SelfSubjectReview), for SubjectAccessReviews as exact as the real
// requests.
func (s *suite) operatorIdentity(ctx context.Context) (authenticationv1.UserInfo, error) {
	cfg, err := s.serviceAccountConfig(ctx)
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	operatorClient, err := client.New(cfg, client.Options{Scheme: s.admin.Scheme()})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := operatorClient.Create(ctx, review); err != nil {
		return authenticationv1.UserInfo{}, fmt.Errorf("asking the API server who the ServiceAccount's token is: %w", err)
	}
	return review.Status.UserInfo, nil
}
