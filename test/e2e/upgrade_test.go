package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ssmv1alpha1 "github.com/605-tv/k8s-aws-operator/apis/ssm/v1alpha1"
	"github.com/605-tv/k8s-aws-operator/internal/testbed"
)

// testUpgrade releases the next version into a copy of the catalog, re-serves it, and checks that OLM
// upgrades the Subscription while what the operator made stays as it was and is still kept in sync.
func (s *suite) testUpgrade(t *testing.T) {
	before := s.snapshot(t, seedSsmConfig, refreshingSsmConfig)
	catalog := s.release(t, committedCatalog(), s.releases.next, s.releases.first, nil)
	if err := s.serveCatalog(t, catalog); err != nil {
		t.Fatal(err)
	}
	csv := s.waitInstalled(t, bundleName(s.releases.next))
	s.eventually(t, installTimeout, "OLM to remove the replaced CSV", s.csvGone(bundleName(s.releases.first)))
	s.eventually(t, time.Minute, "OLM's RBAC for the new CSV", func(ctx context.Context) error { return s.rbacBound(ctx, csv) })

	s.startOperator(t) // the new Deployment's pod
	if after := s.snapshot(t, seedSsmConfig, refreshingSsmConfig); !maps.Equal(before, after) {
		t.Fatalf("the upgrade changed SsmConfigs or their Secrets: before %v, after %v", before, after)
	}
	if err := s.bed.Emulator.PutParameter(refreshingParameter, "e2e-fernet-key-v2", "SecureString"); err != nil {
		t.Fatal(err)
	}
	s.eventually(t, reconcileTimeout, "the new version to sync the changed parameter",
		s.secretHolds(refreshingSsmConfig, map[string]string{"FERNET_KEY": "e2e-fernet-key-v2"}))
	s.eventually(t, reconcileTimeout, "the seed's ServiceAccount to keep its IAM role", s.serviceAccountHasRole)
	s.requireNoDenials(t)
}

// testMissingPermissionDiagnosed releases a version whose CSV lost its rule on Secrets. OLM installs it
// (nothing tells OLM what the operator needs); the suite's RBAC check must name what is missing.
func (s *suite) testMissingPermissionDiagnosed(t *testing.T) {
	broken := s.releases.broken
	catalog := s.release(t, catalogDir(s.dir, s.releases.next), broken, s.releases.next, withoutSecretsRules)
	if err := s.serveCatalog(t, catalog); err != nil {
		t.Fatal(err)
	}
	s.waitInstalled(t, bundleName(broken))
	err := s.rbacDiagnosis(bundleName(broken))
	if err == nil {
		t.Fatal("the RBAC check passed a CSV without permissions on Secrets")
	}
	for _, verb := range []string{"create", "delete", "get", "list", "update", "watch"} {
		if !strings.Contains(err.Error(), verb+" secrets") {
			t.Errorf("the diagnosis does not name %q:\n%v", verb+" secrets", err)
		}
	}
	t.Logf("the suite's diagnosis of v%s: %v", broken, err)

	// And the operator itself, run with that identity, is refused.
	s.startOperator(t)
	var refusal error
	s.eventually(t, reconcileTimeout, "the operator to be refused Secrets", func(context.Context) error {
		if refusal = s.operatorDenials(); refusal == nil || !strings.Contains(refusal.Error(), "secrets is forbidden") {
			return fmt.Errorf("no refusal about secrets in the operator's log yet (%v)", refusal)
		}
		return nil
	})
	t.Logf("and the operator's log: %v", refusal)
}

// testBrokenChannelDiagnosed breaks the upgrade graph (the next release replaces a version the channel
// does not have, so it and the first are both heads) and checks that serving it fails naming the
// channel.
func (s *suite) testBrokenChannelDiagnosed(t *testing.T) {
	catalog := filepath.Join(s.dir, "catalog-broken-channel")
	copyDir(t, catalogDir(s.dir, s.releases.next), catalog)
	channelFile := filepath.Join(catalog, packageName, "channel-"+s.releases.channel+".yaml")
	var channel map[string]any
	readYAML(t, channelFile, &channel)
	for _, entry := range channel["entries"].([]any) {
		if entry := entry.(map[string]any); entry["name"] == bundleName(s.releases.next) {
			entry["replaces"] = bundleName("0.0.0-nowhere")
			delete(entry, "skipRange")
		}
	}
	writeYAML(t, channelFile, channel)

	err := s.serveCatalog(t, catalog)
	if err == nil {
		t.Fatalf("opm served a catalog whose channel %s has two heads", s.releases.channel)
	}
	// opm's message, quoted once more in its log: invalid channel \"alpha\": ... multiple channel heads ...
	names := regexp.MustCompile(`invalid channel \\?"` + regexp.QuoteMeta(s.releases.channel) + `\\?"`)
	if msg := err.Error(); !names.MatchString(msg) || !strings.Contains(msg, "multiple channel heads") {
		t.Errorf("the diagnosis does not name the channel %s and its two heads:\n%v", s.releases.channel, err)
	}
	t.Logf("the suite's diagnosis of the broken channel: %v", err)
}

func catalogDir(dir, version string) string { return filepath.Join(dir, "catalog-v"+version) }

// release builds bundle version (replacing the version replaces) from bundle/, changed by mutate, and
// adds it to a copy of the base catalog with the tool `make catalog-add-release` uses. It returns the
// new catalog's folder.
func (s *suite) release(t *testing.T, base, version, replaces string, mutate func(*operatorsv1alpha1.ClusterServiceVersion)) string {
	t.Helper()
	bundle := s.bundle(t, version, replaces, mutate)
	catalog := catalogDir(s.dir, version)
	copyDir(t, base, catalog)
	cmd := exec.Command("go", "run", "./hack/olm/catalog", "add-release", "--opm", s.tools.opm,
		"--catalog", catalog, "--package", packageName, "--bundle", bundle,
		"--image", "ghcr.io/605-tv/k8s-aws-operator-bundle:v"+version)
	cmd.Dir = testbed.RepoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("adding v%s to the catalog: %v\n%s", version, err, out)
	}
	t.Logf("hack/olm/catalog add-release:\n%s", out)
	return catalog
}

// bundle copies bundle/ and makes it the given version, replacing the given one, with the image of
// that version.
func (s *suite) bundle(t *testing.T, newVersion, replaces string, mutate func(*operatorsv1alpha1.ClusterServiceVersion)) string {
	dir := filepath.Join(s.dir, "bundle-v"+newVersion)
	copyDir(t, filepath.Join(testbed.RepoRoot(), "bundle"), dir)
	file := filepath.Join(dir, "manifests", packageName+".clusterserviceversion.yaml")
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	readYAML(t, file, csv)
	csv.Name = bundleName(newVersion)
	csv.Spec.Version = version.OperatorVersion{Version: semver.MustParse(newVersion)}
	csv.Spec.Replaces = bundleName(replaces)
	image := "ghcr.io/605-tv/k8s-aws-operator:v" + newVersion
	csv.Annotations["containerImage"] = image
	for _, deployment := range csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs {
		for i := range deployment.Spec.Template.Spec.Containers {
			deployment.Spec.Template.Spec.Containers[i].Image = image
		}
	}
	if mutate != nil {
		mutate(csv)
	}
	writeYAML(t, file, csv)
	return dir
}

// withoutSecretsRules drops the CSV's cluster-wide rules on Secrets, as a hand edit or a broken
// kustomize overlay might.
func withoutSecretsRules(csv *operatorsv1alpha1.ClusterServiceVersion) {
	permissions := csv.Spec.InstallStrategy.StrategySpec.ClusterPermissions
	for i := range permissions {
		permissions[i].Rules = slices.DeleteFunc(permissions[i].Rules, func(rule rbacv1.PolicyRule) bool {
			return slices.Contains(rule.Resources, "secrets")
		})
	}
}

// objectState identifies an SsmConfig and its Secret, and what the Secret holds.
type objectState struct {
	ssmConfigUID, secretUID types.UID
	data                    string
}

// snapshot records the SsmConfigs' and their Secrets' identities and data.
func (s *suite) snapshot(t *testing.T, keys ...client.ObjectKey) map[client.ObjectKey]objectState {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	states := map[client.ObjectKey]objectState{}
	for _, key := range keys {
		ssmConfig := &ssmv1alpha1.SsmConfig{}
		secret := &corev1.Secret{}
		if err := s.admin.Get(ctx, key, ssmConfig); err != nil {
			t.Fatal(err)
		}
		if err := s.admin.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: ssmConfig.Status.SecretName}, secret); err != nil {
			t.Fatal(err)
		}
		states[key] = objectState{ssmConfigUID: ssmConfig.UID, secretUID: secret.UID, data: fingerprint(secret.Data)}
	}
	return states
}

// fingerprint stands for a Secret's data in comparisons and failure messages: its keys and a hash,
// never the values.
func fingerprint(data map[string][]byte) string {
	hash := sha256.New()
	keys := slices.Sorted(maps.Keys(data))
	for _, key := range keys {
		fmt.Fprintf(hash, "%d:%s%d:%s", len(key), key, len(data[key]), data[key])
	}
	return fmt.Sprintf("keys %v, sha256 %x", keys, hash.Sum(nil)[:8])
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err == nil {
		err = yaml.Unmarshal(data, into)
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func writeYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err == nil {
		err = os.WriteFile(file, data, 0o644)
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
