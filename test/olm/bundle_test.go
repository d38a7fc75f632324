package olm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

const (
	operatorSA     = "k8s-aws-operator-controller-manager"
	deploymentName = "k8s-aws-operator-controller-manager"
)

// loadBundle reads bundle/manifests the way `operator-sdk bundle validate` does.
func loadBundle(t *testing.T) *manifests.Bundle {
	t.Helper()
	bundle, err := manifests.GetBundleFromDir(inRepo(t, "bundle", "manifests"))
	if err != nil {
		t.Fatalf("loading the bundle (run `make bundle`): %v", err)
	}
	if bundle.CSV == nil {
		t.Fatal("the bundle has no ClusterServiceVersion")
	}
	return bundle
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func rulesOf(t *testing.T, path string) []rbacv1.PolicyRule {
	t.Helper()
	var role struct {
		Rules []rbacv1.PolicyRule `json:"rules"`
	}
	readYAML(t, path, &role)
	if len(role.Rules) == 0 {
		t.Fatalf("%s has no rules", path)
	}
	return role.Rules
}

// normalized turns rules into sorted, comparable strings (order of rules and of their lists is irrelevant).
func normalized(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		parts := []string{}
		for _, list := range [][]string{r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs, r.Verbs} {
			l := slices.Clone(list)
			sort.Strings(l)
			parts = append(parts, strings.Join(l, ","))
		}
		out = append(out, "groups="+parts[0]+" resources="+parts[1]+" names="+parts[2]+" urls="+parts[3]+" verbs="+parts[4])
	}
	sort.Strings(out)
	return out
}

func assertNoWildcards(t *testing.T, where string, rules []rbacv1.PolicyRule) {
	t.Helper()
	for i, r := range rules {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs, r.Verbs} {
			for _, v := range list {
				if strings.Contains(v, "*") {
					t.Errorf("%s rule %d has a wildcard %q: %+v", where, i, v, r)
				}
			}
		}
	}
}

// TestBundleValidates runs operator-framework/api's validators over the bundle: the default bundle
// validators plus OperatorHub, capabilities, categories, good practices and removed APIs, as
// `operator-sdk bundle validate --select-optional suite=operatorframework` does. Warnings fail too.
func TestBundleValidates(t *testing.T) {
	bundle := loadBundle(t)
	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.GoodPracticesValidator,
		validation.AlphaDeprecatedAPIsValidator,
	)
	for _, result := range validators.Validate(bundle) {
		for _, e := range append(result.Errors, result.Warnings...) {
			t.Errorf("%s: %s", e.Level, e.Error())
		}
	}
}

// TestRBACIsWhatTheMarkersAskFor: the CSV's cluster-wide rules are exactly the generated
// config/rbac/role.yaml (from the controllers' +kubebuilder:rbac markers) plus the metrics
// authentication rules, its namespaced rules exactly the leader election Role, and nothing anywhere
// uses a wildcard.
func TestRBACIsWhatTheMarkersAskFor(t *testing.T) {
	csv := loadBundle(t).CSV
	spec := csv.Spec.InstallStrategy.StrategySpec

	var clusterRules, nsRules []rbacv1.PolicyRule
	for _, p := range spec.ClusterPermissions {
		if p.ServiceAccountName != operatorSA {
			t.Errorf("clusterPermissions for an unexpected ServiceAccount %q", p.ServiceAccountName)
		}
		clusterRules = append(clusterRules, p.Rules...)
	}
	for _, p := range spec.Permissions {
		if p.ServiceAccountName != operatorSA {
			t.Errorf("permissions for an unexpected ServiceAccount %q", p.ServiceAccountName)
		}
		nsRules = append(nsRules, p.Rules...)
	}
	assertNoWildcards(t, "clusterPermissions", clusterRules)
	assertNoWildcards(t, "permissions", nsRules)

	markerRules := rulesOf(t, inRepo(t, "config", "rbac", "role.yaml"))
	metricsAuthRules := rulesOf(t, inRepo(t, "config", "rbac", "metrics_auth_role.yaml"))
	want := normalized(append(slices.Clone(markerRules), metricsAuthRules...))
	if got := normalized(clusterRules); !slices.Equal(got, want) {
		t.Errorf("the CSV's clusterPermissions differ from config/rbac/role.yaml + metrics_auth_role.yaml (run `make bundle`):\n got: %s\nwant: %s",
			strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	wantNS := normalized(rulesOf(t, inRepo(t, "config", "rbac", "leader_election_role.yaml")))
	if got := normalized(nsRules); !slices.Equal(got, wantNS) {
		t.Errorf("the CSV's permissions differ from config/rbac/leader_election_role.yaml:\n got: %v\nwant: %v", got, wantNS)
	}

	// The other roles shipped in the bundle (metrics reader, SsmConfig admin/editor/viewer).
	for _, obj := range loadBundle(t).Objects {
		if obj.GetKind() != "ClusterRole" && obj.GetKind() != "Role" {
			continue
		}
		var role rbacv1.ClusterRole
		data, _ := json.Marshal(obj.Object)
		if err := json.Unmarshal(data, &role); err != nil {
			t.Fatal(err)
		}
		assertNoWildcards(t, obj.GetKind()+" "+obj.GetName(), role.Rules)
	}
}

// TestDeployment: resource requests and limits, the restricted security context, probes, and the
// volumes the operator needs with a read-only root filesystem.
func TestDeployment(t *testing.T) {
	csv := loadBundle(t).CSV
	deployments := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs
	if len(deployments) != 1 || deployments[0].Name != deploymentName {
		t.Fatalf("want one Deployment %s, got %d", deploymentName, len(deployments))
	}
	pod := deployments[0].Spec.Template.Spec
	if pod.ServiceAccountName != operatorSA {
		t.Errorf("serviceAccountName = %q, want %q", pod.ServiceAccountName, operatorSA)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot must be true")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod securityContext.seccompProfile must be RuntimeDefault")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[name]; !ok || q.IsZero() {
			t.Errorf("container %s has no %s request", c.Name, name)
		}
		if q, ok := c.Resources.Limits[name]; !ok || q.IsZero() {
			t.Errorf("container %s has no %s limit", c.Name, name)
		}
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("the container has no securityContext")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("allowPrivilegeEscalation must be false")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("readOnlyRootFilesystem must be true")
	case sc.Privileged != nil && *sc.Privileged:
		t.Error("the container must not be privileged")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
		t.Errorf("capabilities must drop ALL and add nothing, got %+v", sc.Capabilities)
	}
	for _, arg := range []string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Error("liveness probe must GET /healthz")
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Error("readiness probe must GET /readyz")
	}
	if img := csv.Annotations["containerImage"]; c.Image != img || strings.HasPrefix(img, "controller:") {
		t.Errorf("container image %q and containerImage annotation %q must be the same, real image", c.Image, img)
	}

	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	if v, ok := volumes[mounts["/tmp"]]; !ok || v.EmptyDir == nil {
		t.Error("/tmp must be an emptyDir (the metrics server writes its certificate there)")
	}
	// token-auth-aws: OpenShift STS needs the projected token with audience "openshift" at this path.
	v, ok := volumes[mounts["/var/run/secrets/openshift/serviceaccount"]]
	if !ok || v.Projected == nil || len(v.Projected.Sources) != 1 || v.Projected.Sources[0].ServiceAccountToken == nil ||
		v.Projected.Sources[0].ServiceAccountToken.Audience != "openshift" || v.Projected.Sources[0].ServiceAccountToken.Path != "token" {
		t.Error("the OpenShift STS token (projected, audience openshift, path token) must be mounted at /var/run/secrets/openshift/serviceaccount")
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "AWS_") {
			t.Errorf("the Deployment must not set %s: credentials come from IRSA / ROLEARN", e.Name)
		}
	}
}

// TestInstallModes: AllNamespaces only.
func TestInstallModes(t *testing.T) {
	csv := loadBundle(t).CSV
	want := map[operatorsv1alpha1.InstallModeType]bool{
		operatorsv1alpha1.InstallModeTypeOwnNamespace:    false,
		operatorsv1alpha1.InstallModeTypeSingleNamespace: false,
		operatorsv1alpha1.InstallModeTypeMultiNamespace:  false,
		operatorsv1alpha1.InstallModeTypeAllNamespaces:   true,
	}
	got := map[operatorsv1alpha1.InstallModeType]bool{}
	for _, m := range csv.Spec.InstallModes {
		got[m.Type] = m.Supported
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("installModes = %v, want %v", got, want)
	}
}

// TestCSVMetadata: what OperatorHub shows and certification checks.
func TestCSVMetadata(t *testing.T) {
	bundle := loadBundle(t)
	csv := bundle.CSV
	version, err := os.ReadFile(inRepo(t, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(version))
	if csv.Name != packageName+".v"+v || csv.Spec.Version.String() != v {
		t.Errorf("CSV %s version %s, want %s.v%s (VERSION)", csv.Name, csv.Spec.Version, packageName, v)
	}
	a := csv.Annotations
	for key, want := range map[string]string{
		"capabilities": "Seamless Upgrades",
		"repository":   "https://github.com/605-tv/k8s-aws-operator",
		"features.operators.openshift.io/disconnected":     "false",
		"features.operators.openshift.io/fips-compliant":   "false",
		"features.operators.openshift.io/proxy-aware":      "true",
		"features.operators.openshift.io/tls-profiles":     "false",
		"features.operators.openshift.io/token-auth-aws":   "true",
		"features.operators.openshift.io/token-auth-azure": "false",
		"features.operators.openshift.io/token-auth-gcp":   "false",
		"features.operators.openshift.io/cnf":              "false",
		"features.operators.openshift.io/cni":              "false",
		"features.operators.openshift.io/csi":              "false",
	} {
		if a[key] != want {
			t.Errorf("annotation %s = %q, want %q", key, a[key], want)
		}
	}
	for _, key := range []string{"categories", "containerImage", "support", "description", "createdAt", "alm-examples"} {
		if a[key] == "" {
			t.Errorf("annotation %s is empty", key)
		}
	}
	if csv.Spec.MinKubeVersion == "" || csv.Spec.Maturity == "" || len(csv.Spec.Keywords) == 0 ||
		len(csv.Spec.Maintainers) == 0 || len(csv.Spec.Links) == 0 || csv.Spec.Provider.Name == "" || csv.Spec.DisplayName == "" {
		t.Error("minKubeVersion, maturity, keywords, maintainers, links, provider and displayName must be set")
	}
	for _, s := range []string{"ROLEARN", "/var/run/secrets/openshift/serviceaccount/token", "eks.amazonaws.com/role-arn",
		"docs/operator-iam-policy.json", "All namespaces", "ssm.aws.605.tv/allowed-paths", "attachedPolicies"} {
		if !strings.Contains(csv.Spec.Description, s) {
			t.Errorf("the description does not mention %q", s)
		}
	}

	// The icon is hack/olm/icon.svg, 2:1 (width:height).
	svg, err := os.ReadFile(inRepo(t, "hack", "olm", "icon.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(csv.Spec.Icon) != 1 || csv.Spec.Icon[0].MediaType != "image/svg+xml" || csv.Spec.Icon[0].Data != base64.StdEncoding.EncodeToString(svg) {
		t.Error("spec.icon must be exactly hack/olm/icon.svg, base64, image/svg+xml")
	}
	if m := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(string(svg)); m == nil || m[1] != fmt.Sprint(2*atoi(t, m[2])) {
		t.Errorf("the icon's viewBox must be 2:1, got %v", m)
	}

	// alm-examples: the seed's SsmConfig.
	var examples []struct {
		Kind     string            `json:"kind"`
		Metadata map[string]string `json:"metadata"`
		Spec     struct {
			SsmKeys []string `json:"ssmKeys"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(a["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples: %v", err)
	}
	if len(examples) != 1 || examples[0].Kind != "SsmConfig" || examples[0].Metadata["name"] != "airflow" ||
		!slices.Equal(examples[0].Spec.SsmKeys, []string{"/dev-qa/airflow/AIRFLOW__SENTRY__CLIENT_SECRET", "/dev-qa/airflow/FERNET_KEY"}) {
		t.Errorf("alm-examples must be the seed SsmConfig, got %+v", examples)
	}

	// The owned CRD: the resources the operator creates, and a descriptor for every spec and status field.
	owned := csv.Spec.CustomResourceDefinitions.Owned
	if len(owned) != 1 || owned[0].Kind != "SsmConfig" {
		t.Fatalf("want one owned CRD SsmConfig, got %+v", owned)
	}
	var resources []string
	for _, r := range owned[0].Resources {
		resources = append(resources, r.Kind+"/"+r.Version)
	}
	sort.Strings(resources)
	if !slices.Equal(resources, []string{"Event/v1", "Secret/v1"}) {
		t.Errorf("owned resources = %v, want Event/v1 and Secret/v1 once each", resources)
	}
	if len(bundle.V1CRDs) != 1 {
		t.Fatalf("want one CRD in the bundle, got %d", len(bundle.V1CRDs))
	}
	schema := bundle.V1CRDs[0].Spec.Versions[0].Schema.OpenAPIV3Schema
	descriptors := map[string]map[string]bool{"spec": {}, "status": {}}
	for _, d := range owned[0].SpecDescriptors {
		descriptors["spec"][d.Path] = true
	}
	for _, d := range owned[0].StatusDescriptors {
		descriptors["status"][d.Path] = true
	}
	for _, part := range []string{"spec", "status"} {
		for field := range schema.Properties[part].Properties {
			if !descriptors[part][field] {
				t.Errorf("%s.%s has no CSV descriptor (+operator-sdk:csv:customresourcedefinitions marker)", part, field)
			}
		}
	}
}

// TestBundleMetadata: annotations.yaml is generated for this package, and bundle.Dockerfile carries
// the same labels and copies the same directories.
func TestBundleMetadata(t *testing.T) {
	var meta struct {
		Annotations map[string]string `json:"annotations"`
	}
	readYAML(t, inRepo(t, "bundle", "metadata", "annotations.yaml"), &meta)
	a := meta.Annotations
	if a["operators.operatorframework.io.bundle.package.v1"] != packageName {
		t.Errorf("package annotation = %q", a["operators.operatorframework.io.bundle.package.v1"])
	}
	channels := strings.Split(a["operators.operatorframework.io.bundle.channels.v1"], ",")
	if def := a["operators.operatorframework.io.bundle.channel.default.v1"]; !slices.Contains(channels, def) {
		t.Errorf("default channel %q is not among the channels %v", def, channels)
	}
	dockerfile, err := os.ReadFile(inRepo(t, "bundle.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, line := range strings.Split(string(dockerfile), "\n") {
		if rest, ok := strings.CutPrefix(line, "LABEL "); ok {
			k, v, _ := strings.Cut(rest, "=")
			labels[k] = v
		}
	}
	if fmt.Sprint(labels) != fmt.Sprint(a) {
		t.Errorf("bundle.Dockerfile labels differ from bundle/metadata/annotations.yaml:\n%v\n%v", labels, a)
	}
	for _, dir := range []string{"manifests", "metadata", "tests/scorecard"} {
		if !strings.Contains(string(dockerfile), "COPY bundle/"+dir+" /"+dir+"/") {
			t.Errorf("bundle.Dockerfile does not copy bundle/%s", dir)
		}
	}
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
