package olm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blang/semver/v4"
	"sigs.k8s.io/yaml"
)

type channelEntry struct {
	Name      string `json:"name"`
	Replaces  string `json:"replaces,omitempty"`
	SkipRange string `json:"skipRange,omitempty"`
}

type channelBlob struct {
	Schema  string         `json:"schema"`
	Package string         `json:"package"`
	Name    string         `json:"name"`
	Entries []channelEntry `json:"entries"`
}

func readChannel(t *testing.T, file string) channelBlob {
	t.Helper()
	var ch channelBlob
	readYAML(t, file, &ch)
	return ch
}

func writeChannel(t *testing.T, file string, ch channelBlob) {
	t.Helper()
	data, err := yaml.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// head is the entry that no other entry replaces.
func head(ch channelBlob) []string {
	replaced := map[string]bool{}
	for _, e := range ch.Entries {
		replaced[e.Replaces] = true
	}
	var heads []string
	for _, e := range ch.Entries {
		if !replaced[e.Name] {
			heads = append(heads, e.Name)
		}
	}
	return heads
}

// buildCatalogTool compiles hack/olm/catalog, the program behind `make catalog` and
// `make catalog-add-release`.
func buildCatalogTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "catalog-tool")
	mustRun(t, repoRoot(t), "go", "build", "-o", bin, "./hack/olm/catalog")
	return bin
}

// nextBundle copies bundle/ to dir and turns it into release `version` that replaces `replaces`.
func nextBundle(t *testing.T, dir string, version semver.Version, replaces string) string {
	t.Helper()
	copyTree(t, inRepo(t, "bundle"), dir)
	file := filepath.Join(dir, "manifests", packageName+".clusterserviceversion.yaml")
	var csv map[string]any
	readYAML(t, file, &csv)
	csv["metadata"].(map[string]any)["name"] = fmt.Sprintf("%s.v%s", packageName, version)
	spec := csv["spec"].(map[string]any)
	spec["version"] = version.String()
	spec["replaces"] = replaces
	data, err := yaml.Marshal(csv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestUpgradeGraph adds a second release to a copy of the catalog with the same tool `make
// catalog-add-release` uses, and proves the graph: in every channel the new bundle is the head, it
// replaces the previous head and skips every older version, and opm validates the catalog. Adding it
// again changes nothing; an older version is refused; a dangling replaces is rejected by opm.
func TestUpgradeGraph(t *testing.T) {
	opm := opmPath(t)
	tool := buildCatalogTool(t)
	work := t.TempDir()
	catalog := filepath.Join(work, "catalog")
	copyTree(t, inRepo(t, "catalog"), catalog)
	pkgDir := filepath.Join(catalog, packageName)
	mustRun(t, work, opm, "validate", catalog)

	channelFiles, err := filepath.Glob(filepath.Join(pkgDir, "channel-*.yaml"))
	if err != nil || len(channelFiles) == 0 {
		t.Fatalf("no channels in %s (run `make catalog`)", pkgDir)
	}
	// The current release is the head of every channel (alpha and stable).
	var current string
	for _, f := range channelFiles {
		heads := head(readChannel(t, f))
		if len(heads) != 1 || (current != "" && heads[0] != current) {
			t.Fatalf("%s: want the same single head in every channel, got %v", f, heads)
		}
		current = heads[0]
	}
	currentVersion := semver.MustParse(strings.TrimPrefix(current, packageName+".v"))
	next := currentVersion
	next.Minor++
	next.Patch = 0
	nextName := fmt.Sprintf("%s.v%s", packageName, next)
	nextImage := "example.com/605-tv/k8s-aws-operator-bundle:v" + next.String()
	bundleDir := nextBundle(t, filepath.Join(work, "bundle-next"), next, current)

	addRelease := func(catalogDir, bundle, image string) (string, error) {
		return run(work, tool, "add-release", "--opm", opm, "--catalog", catalogDir, "--package", packageName,
			"--bundle", bundle, "--image", image)
	}
	out, err := addRelease(catalog, bundleDir, nextImage)
	if err != nil {
		t.Fatalf("add-release %s: %v\n%s", next, err, out)
	}
	t.Log(out)

	for _, f := range channelFiles {
		ch := readChannel(t, f)
		last := ch.Entries[len(ch.Entries)-1]
		if last.Name != nextName || last.Replaces != current || last.SkipRange != fmt.Sprintf(">=0.0.0 <%s", next) {
			t.Errorf("channel %s: new entry %+v, want %s replacing %s with skipRange >=0.0.0 <%s", ch.Name, last, nextName, current, next)
		}
		if heads := head(ch); len(heads) != 1 || heads[0] != nextName {
			t.Errorf("channel %s: heads %v, want [%s]", ch.Name, heads, nextName)
		}
	}
	blobFile := filepath.Join(pkgDir, "bundle-v"+next.String()+".yaml")
	var blob struct {
		Image string `json:"image"`
		Name  string `json:"name"`
	}
	readYAML(t, blobFile, &blob)
	if blob.Image != nextImage || blob.Name != nextName {
		t.Errorf("bundle blob %s: name %q image %q, want %q %q", blobFile, blob.Name, blob.Image, nextName, nextImage)
	}
	mustRun(t, work, opm, "validate", catalog)

	// opm's own view of the upgrade edges agrees.
	rendered := mustRun(t, work, opm, "render", catalog, "--output", "json")
	for _, want := range []string{`"name": "` + nextName + `"`, `"replaces": "` + current + `"`} {
		if !strings.Contains(rendered, want) {
			t.Errorf("opm render %s lacks %s", catalog, want)
		}
	}

	t.Run("adding the same release again changes nothing", func(t *testing.T) {
		before := snapshot(t, pkgDir)
		if out, err := addRelease(catalog, bundleDir, nextImage); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if after := snapshot(t, pkgDir); after != before {
			t.Error("adding the same release again changed the catalog")
		}
	})

	t.Run("a version not above the head is refused", func(t *testing.T) {
		older := currentVersion
		older.Patch++ // between the old head and the new one
		if !older.LT(next) {
			t.Skip("no version between the two releases")
		}
		olderDir := nextBundle(t, filepath.Join(work, "bundle-older"), older, current)
		before := snapshot(t, pkgDir)
		out, err := addRelease(catalog, olderDir, "example.com/bundle:v"+older.String())
		if err == nil || !strings.Contains(out, "not newer than the channel head") {
			t.Errorf("adding %s after %s: want a refusal, got err=%v\n%s", older, next, err, out)
		}
		if snapshot(t, pkgDir) != before {
			t.Error("a refused release must leave the catalog untouched")
		}
	})

	t.Run("a dangling replaces is rejected by opm validate", func(t *testing.T) {
		broken := filepath.Join(work, "broken")
		copyTree(t, catalog, broken)
		file := filepath.Join(broken, packageName, filepath.Base(channelFiles[0]))
		ch := readChannel(t, file)
		ch.Entries[len(ch.Entries)-1].Replaces = packageName + ".v0.0.9" // not in the catalog
		writeChannel(t, file, ch)
		out, err := run(work, opm, "validate", broken)
		if err == nil {
			t.Fatalf("opm validate accepted a channel whose head replaces a bundle that does not exist:\n%s", out)
		}
		// The old release is no longer reachable: it becomes a second head.
		if !strings.Contains(out, "multiple channel heads") {
			t.Errorf("unexpected opm validate error: %s", out)
		}
		t.Logf("opm validate rejected the broken graph: %s", strings.TrimSpace(out))
	})

	t.Run("opm allows only the tail to replace a pruned release", func(t *testing.T) {
		// Documents why the broken graph above is built with the new head: opm permits the oldest
		// entry of a channel to replace a bundle no longer in the catalog.
		pruned := filepath.Join(work, "pruned")
		copyTree(t, catalog, pruned)
		file := filepath.Join(pruned, packageName, filepath.Base(channelFiles[0]))
		ch := readChannel(t, file)
		ch.Entries[0].Replaces = packageName + ".v0.0.9"
		writeChannel(t, file, ch)
		mustRun(t, work, opm, "validate", pruned)
	})
}

// TestCatalogHoldsTheBundle: the committed catalog has the bundle of the current VERSION, with its
// image set, in every channel of the bundle's annotations, and its CSV is the one in bundle/ (the
// catalog was regenerated after the bundle). Needs no opm.
func TestCatalogHoldsTheBundle(t *testing.T) {
	csvFile := inRepo(t, "bundle", "manifests", packageName+".clusterserviceversion.yaml")
	var bundleCSV map[string]any
	readYAML(t, csvFile, &bundleCSV)
	name := bundleCSV["metadata"].(map[string]any)["name"].(string)
	version := bundleCSV["spec"].(map[string]any)["version"].(string)

	blobFile := inRepo(t, "catalog", packageName, "bundle-v"+version+".yaml")
	var blob struct {
		Name       string `json:"name"`
		Image      string `json:"image"`
		Properties []struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	}
	readYAML(t, blobFile, &blob)
	if blob.Name != name || blob.Image == "" {
		t.Fatalf("%s: name %q image %q, want %q and an image (run `make catalog`)", blobFile, blob.Name, blob.Image, name)
	}
	found := false
	for _, p := range blob.Properties {
		if p.Type != "olm.bundle.object" {
			continue
		}
		var obj struct {
			Data string `json:"data"`
		}
		if err := json.Unmarshal(p.Value, &obj); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(obj.Data)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] != "ClusterServiceVersion" {
			continue
		}
		found = true
		want, _ := json.Marshal(bundleCSV)
		got, _ := json.Marshal(m)
		if !bytes.Equal(canonical(t, got), canonical(t, want)) {
			t.Errorf("the CSV in %s differs from bundle/ (run `make bundle catalog`)", blobFile)
		}
	}
	if !found {
		t.Errorf("%s has no CSV", blobFile)
	}

	var meta struct {
		Annotations map[string]string `json:"annotations"`
	}
	readYAML(t, inRepo(t, "bundle", "metadata", "annotations.yaml"), &meta)
	for _, chName := range strings.Split(meta.Annotations["operators.operatorframework.io.bundle.channels.v1"], ",") {
		ch := readChannel(t, inRepo(t, "catalog", packageName, "channel-"+chName+".yaml"))
		inChannel := false
		for _, e := range ch.Entries {
			inChannel = inChannel || e.Name == name
		}
		if !inChannel {
			t.Errorf("channel %s does not contain %s", chName, name)
		}
	}
	var pkg struct {
		DefaultChannel string `json:"defaultChannel"`
	}
	readYAML(t, inRepo(t, "catalog", packageName, "package.yaml"), &pkg)
	if want := meta.Annotations["operators.operatorframework.io.bundle.channel.default.v1"]; pkg.DefaultChannel != want {
		t.Errorf("the package's default channel is %q, the bundle's %q", pkg.DefaultChannel, want)
	}
}

// canonical drops the fields the API server adds when decoding (creationTimestamp: null) by
// round-tripping both sides through the same decoder, and sorts keys.
func canonical(t *testing.T, data []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	stripNulls(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func stripNulls(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if val == nil {
				delete(x, k)
				continue
			}
			stripNulls(val)
		}
	case []any:
		for _, val := range x {
			stripNulls(val)
		}
	}
}

// snapshot concatenates the files of dir in name order.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(f + "\n")
		b.Write(data)
	}
	return b.String()
}
