// Command catalog maintains the operator's file-based catalog (FBC) with opm.
//
//	go run ./hack/olm/catalog add-release --opm bin/opm-v1.65.0 --catalog catalog \
//	    --package k8s-aws-operator --bundle bundle --image ghcr.io/605-tv/k8s-aws-operator-bundle:v0.1.0
//
// add-release renders a bundle directory with `opm render` (which leaves the bundle image empty for a
// directory, so the image is set from --image), writes it as catalog/<package>/bundle-v<version>.yaml
// and adds it to each of its channels (default: the channels in the bundle's metadata/annotations.yaml)
// as the new channel head:
//
//   - name: <package>.v<new>
//     replaces: <the channel's current head>
//     skipRange: '>=0.0.0 <<new>'
//
// so every older version upgrades straight to it and the replaces chain keeps the history. A channel
// that does not exist yet is created, and the package blob (opm init) when the catalog is new or
// --default-channel is given. Adding a bundle that is already in a channel only refreshes its blob, so
// running it again is a no-op; a version not above the channel's head is refused. The result must pass
// `opm validate`.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	"sigs.k8s.io/yaml"
)

type options struct {
	opm, catalog, pkg, bundle, image, channels, defaultChannel, icon string
}

func main() {
	if len(os.Args) < 2 || os.Args[1] != "add-release" {
		fmt.Fprintln(os.Stderr, "usage: catalog add-release --opm PATH --catalog DIR --package NAME --bundle DIR --image REF [--channels a,b] [--default-channel c] [--icon FILE]")
		os.Exit(2)
	}
	var o options
	fs := flag.NewFlagSet("add-release", flag.ExitOnError)
	fs.StringVar(&o.opm, "opm", "", "path of the opm binary (required)")
	fs.StringVar(&o.catalog, "catalog", "catalog", "root of the file-based catalog")
	fs.StringVar(&o.pkg, "package", "", "package name (required)")
	fs.StringVar(&o.bundle, "bundle", "", "bundle directory to add (required)")
	fs.StringVar(&o.image, "image", "", "the bundle's image reference (required)")
	fs.StringVar(&o.channels, "channels", "", "channels to add the bundle to (default: the bundle's channels annotation)")
	fs.StringVar(&o.defaultChannel, "default-channel", "", "(re)write the package blob with this default channel (default: keep it; a new catalog takes the bundle's default channel annotation)")
	fs.StringVar(&o.icon, "icon", "", "icon file for the package blob")
	_ = fs.Parse(os.Args[2:])
	if err := addRelease(o); err != nil {
		fmt.Fprintln(os.Stderr, "catalog add-release:", err)
		os.Exit(1)
	}
}

// channelEntry is an entry of an olm.channel blob.
type channelEntry struct {
	Name      string   `json:"name"`
	Replaces  string   `json:"replaces,omitempty"`
	Skips     []string `json:"skips,omitempty"`
	SkipRange string   `json:"skipRange,omitempty"`
}

// channel is an olm.channel blob.
type channel struct {
	Schema  string         `json:"schema"`
	Package string         `json:"package"`
	Name    string         `json:"name"`
	Entries []channelEntry `json:"entries"`
}

func addRelease(o options) error {
	for flagName, v := range map[string]string{"--opm": o.opm, "--package": o.pkg, "--bundle": o.bundle, "--image": o.image} {
		if v == "" {
			return fmt.Errorf("%s is required", flagName)
		}
	}
	annotations, err := bundleAnnotations(o.bundle)
	if err != nil {
		return err
	}
	if got := annotations["operators.operatorframework.io.bundle.package.v1"]; got != o.pkg {
		return fmt.Errorf("bundle %s is of package %q, not %q", o.bundle, got, o.pkg)
	}
	channels := splitList(o.channels)
	if len(channels) == 0 {
		channels = splitList(annotations["operators.operatorframework.io.bundle.channels.v1"])
	}
	if len(channels) == 0 {
		return fmt.Errorf("no channels: give --channels or set the bundle's channels annotation")
	}

	blob, name, version, err := renderBundle(o.opm, o.bundle, o.image, o.pkg)
	if err != nil {
		return err
	}
	dir := filepath.Join(o.catalog, o.pkg)
	// Every file to write, by its path relative to dir. Nothing is written until all of them are
	// computed and a copy of the catalog with them passes opm validate.
	files := map[string][]byte{}

	// The package blob.
	defaultChannel := o.defaultChannel
	if _, err := os.Stat(filepath.Join(dir, "package.yaml")); errors.Is(err, os.ErrNotExist) && defaultChannel == "" {
		defaultChannel = annotations["operators.operatorframework.io.bundle.channel.default.v1"]
		if defaultChannel == "" {
			defaultChannel = channels[0]
		}
	}
	if defaultChannel != "" {
		args := []string{"init", o.pkg, "--default-channel", defaultChannel, "--output", "yaml"}
		if o.icon != "" {
			args = append(args, "--icon", o.icon)
		}
		out, err := runOPM(o.opm, args...)
		if err != nil {
			return err
		}
		files["package.yaml"] = out
	}

	// The bundle blob.
	versions, err := bundleVersions(dir)
	if err != nil {
		return err
	}
	if files["bundle-v"+version.String()+".yaml"], err = marshalYAML(blob); err != nil {
		return err
	}
	versions[name] = version

	// The channels.
	var messages []string
	for _, chName := range channels {
		file := "channel-" + chName + ".yaml"
		ch := channel{Schema: "olm.channel", Package: o.pkg, Name: chName}
		if data, err := os.ReadFile(filepath.Join(dir, file)); err == nil {
			if err := yaml.UnmarshalStrict(data, &ch); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		updated, msg, err := addToChannel(ch, name, version, versions)
		if err != nil {
			return fmt.Errorf("channel %s: %w", chName, err)
		}
		messages = append(messages, fmt.Sprintf("channel %s: %s", chName, msg))
		if files[file], err = marshalYAML(updated); err != nil {
			return err
		}
	}

	// Validate a copy of the catalog with the new files, then write them.
	scratch, err := os.MkdirTemp("", "catalog-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := os.CopyFS(scratch, os.DirFS(o.catalog)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := writeFiles(filepath.Join(scratch, o.pkg), files); err != nil {
		return err
	}
	if _, err := runOPM(o.opm, "validate", scratch); err != nil {
		return fmt.Errorf("the catalog would not validate, nothing written: %w", err)
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	if _, err := runOPM(o.opm, "validate", o.catalog); err != nil {
		return fmt.Errorf("the catalog does not validate: %w", err)
	}
	for _, m := range messages {
		fmt.Println(m)
	}
	fmt.Printf("%s (%s) is in %s; opm validate %s: passed\n", name, o.image, strings.Join(channels, ", "), o.catalog)
	return nil
}

func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// addToChannel appends name as the channel's new head, replacing the current head and skipping every
// older version. A bundle already in the channel leaves it unchanged.
func addToChannel(ch channel, name string, version semver.Version, versions map[string]semver.Version) (channel, string, error) {
	for _, e := range ch.Entries {
		if e.Name == name {
			return ch, name + " is already in the channel", nil
		}
	}
	entry := channelEntry{Name: name, SkipRange: fmt.Sprintf(">=0.0.0 <%s", version)}
	if len(ch.Entries) > 0 {
		head, err := channelHead(ch)
		if err != nil {
			return ch, "", err
		}
		headVersion, ok := versions[head]
		if !ok {
			return ch, "", fmt.Errorf("no bundle blob for the channel head %s", head)
		}
		if !version.GT(headVersion) {
			return ch, "", fmt.Errorf("%s (%s) is not newer than the channel head %s (%s)", name, version, head, headVersion)
		}
		entry.Replaces = head
	}
	ch.Entries = append(ch.Entries, entry)
	if entry.Replaces == "" {
		return ch, "new channel, head " + name, nil
	}
	return ch, fmt.Sprintf("%s replaces %s, skipRange %q", name, entry.Replaces, entry.SkipRange), nil
}

// channelHead is the one entry no other entry replaces or skips.
func channelHead(ch channel) (string, error) {
	superseded := map[string]bool{}
	for _, e := range ch.Entries {
		if e.Replaces != "" {
			superseded[e.Replaces] = true
		}
		for _, s := range e.Skips {
			superseded[s] = true
		}
	}
	var heads []string
	for _, e := range ch.Entries {
		if !superseded[e.Name] {
			heads = append(heads, e.Name)
		}
	}
	if len(heads) != 1 {
		return "", fmt.Errorf("want exactly one channel head, found %v", heads)
	}
	return heads[0], nil
}

// renderBundle renders a bundle directory with opm and sets its image.
func renderBundle(opm, bundleDir, image, pkg string) (map[string]any, string, semver.Version, error) {
	out, err := runOPM(opm, "render", bundleDir, "--output", "json")
	if err != nil {
		return nil, "", semver.Version{}, err
	}
	var blobs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var b map[string]any
		if err := dec.Decode(&b); err != nil {
			return nil, "", semver.Version{}, fmt.Errorf("opm render output: %w", err)
		}
		blobs = append(blobs, b)
	}
	if len(blobs) != 1 || blobs[0]["schema"] != "olm.bundle" {
		return nil, "", semver.Version{}, fmt.Errorf("opm render %s: want one olm.bundle blob, got %d blobs", bundleDir, len(blobs))
	}
	blob := blobs[0]
	if blob["package"] != pkg {
		return nil, "", semver.Version{}, fmt.Errorf("rendered bundle is of package %v, not %s", blob["package"], pkg)
	}
	blob["image"] = image
	name, _ := blob["name"].(string)
	version, err := packageVersion(blob)
	if err != nil {
		return nil, "", semver.Version{}, fmt.Errorf("bundle %s: %w", name, err)
	}
	return blob, name, version, nil
}

// packageVersion reads the version of the olm.package property of a bundle blob.
func packageVersion(blob map[string]any) (semver.Version, error) {
	props, _ := blob["properties"].([]any)
	for _, p := range props {
		prop, _ := p.(map[string]any)
		if prop["type"] != "olm.package" {
			continue
		}
		value, _ := prop["value"].(map[string]any)
		v, _ := value["version"].(string)
		return semver.Parse(v)
	}
	return semver.Version{}, fmt.Errorf("no olm.package property")
}

// bundleVersions maps the name of every bundle blob in dir to its version.
func bundleVersions(dir string) (map[string]semver.Version, error) {
	files, err := filepath.Glob(filepath.Join(dir, "bundle-*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	versions := map[string]semver.Version{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var blob map[string]any
		if err := yaml.Unmarshal(data, &blob); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		name, _ := blob["name"].(string)
		v, err := packageVersion(blob)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		versions[name] = v
	}
	return versions, nil
}

// bundleAnnotations reads bundle/metadata/annotations.yaml.
func bundleAnnotations(bundleDir string) (map[string]string, error) {
	file := filepath.Join(bundleDir, "metadata", "annotations.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return doc.Annotations, nil
}

func runOPM(opm string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(opm, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", opm, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func marshalYAML(v any) ([]byte, error) {
	data, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte("---\n"), data...), nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
