// Command scorecard runs the bundle's scorecard tests offline, without a cluster: each test listed in
// bundle/tests/scorecard/config.yaml is run by the scorecard-test binary (the program inside
// quay.io/operator-framework/scorecard-test), which reads the bundle from the fixed path /bundle. So
// every test gets a fresh root directory R holding R/bundle and R/scorecard-test, and runs as
// `chroot R /scorecard-test <test>` (root is needed for chroot). Any result other than "pass" fails.
//
//	go run ./hack/olm/scorecard -scorecard-test bin/scorecard-test-v1.42.2 -bundle bundle
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// The tests the bundle's scorecard configuration must list (the basic and olm suites).
var requiredTests = []string{
	"basic-check-spec",
	"olm-bundle-validation",
	"olm-crds-have-validation",
	"olm-crds-have-resources",
	"olm-spec-descriptors",
	"olm-status-descriptors",
}

// scorecardConfig is the part of scorecard.operatorframework.io/v1alpha3 Configuration used here.
type scorecardConfig struct {
	Stages []struct {
		Tests []struct {
			Entrypoint []string          `json:"entrypoint"`
			Image      string            `json:"image"`
			Labels     map[string]string `json:"labels"`
		} `json:"tests"`
	} `json:"stages"`
}

// testStatus is scorecard.operatorframework.io/v1alpha3 TestStatus, as the binary prints it.
type testStatus struct {
	Results []struct {
		Name        string   `json:"name"`
		Log         string   `json:"log"`
		State       string   `json:"state"`
		Errors      []string `json:"errors"`
		Suggestions []string `json:"suggestions"`
	} `json:"results"`
}

type outcome struct {
	test, suite, state string
	details            []string
}

func main() {
	binary := flag.String("scorecard-test", "", "path of the scorecard-test binary (required)")
	bundleDir := flag.String("bundle", "bundle", "bundle directory (manifests/, metadata/, tests/scorecard/)")
	timeout := flag.Duration("timeout", 2*time.Minute, "time limit of one test")
	flag.Parse()
	if err := run(*binary, *bundleDir, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "scorecard:", err)
		os.Exit(1)
	}
}

func run(binary, bundleDir string, timeout time.Duration) error {
	if binary == "" {
		return fmt.Errorf("-scorecard-test is required")
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the offline scorecard needs chroot, so root (the scorecard-test binary reads the bundle from /bundle only)")
	}
	tests, err := configuredTests(filepath.Join(bundleDir, "tests", "scorecard", "config.yaml"))
	if err != nil {
		return err
	}
	var outcomes []outcome
	failed := 0
	for _, t := range tests {
		o := runOne(binary, bundleDir, t[0], t[1], timeout)
		if o.state != "pass" {
			failed++
		}
		outcomes = append(outcomes, o)
	}
	fmt.Println("Scorecard (offline, bundle " + bundleDir + "):")
	for _, o := range outcomes {
		fmt.Printf("  %-26s %-6s %s\n", o.test, o.suite, strings.ToUpper(o.state))
		for _, d := range o.details {
			fmt.Printf("      %s\n", d)
		}
	}
	fmt.Printf("  %d/%d passed\n", len(outcomes)-failed, len(outcomes))
	if failed > 0 {
		return fmt.Errorf("%d of %d scorecard tests did not pass", failed, len(outcomes))
	}
	return nil
}

// configuredTests returns [test, suite] pairs from the scorecard configuration, after checking that
// every required test is there and that nothing needs another image.
func configuredTests(path string) ([][2]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg scorecardConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tests [][2]string
	seen := map[string]bool{}
	for _, stage := range cfg.Stages {
		for _, t := range stage.Tests {
			if len(t.Entrypoint) != 2 || t.Entrypoint[0] != "scorecard-test" {
				return nil, fmt.Errorf("%s: test %v is not run by scorecard-test; it cannot run offline", path, t.Entrypoint)
			}
			tests = append(tests, [2]string{t.Entrypoint[1], t.Labels["suite"]})
			seen[t.Entrypoint[1]] = true
		}
	}
	for _, name := range requiredTests {
		if !seen[name] {
			return nil, fmt.Errorf("%s does not list the test %s", path, name)
		}
	}
	return tests, nil
}

func runOne(binary, bundleDir, test, suite string, timeout time.Duration) outcome {
	o := outcome{test: test, suite: suite, state: "error"}
	root, err := os.MkdirTemp("", "scorecard-root-")
	if err != nil {
		o.details = append(o.details, err.Error())
		return o
	}
	defer os.RemoveAll(root)
	if err := copyTree(bundleDir, filepath.Join(root, "bundle")); err != nil {
		o.details = append(o.details, "copying the bundle: "+err.Error())
		return o
	}
	if err := copyFile(binary, filepath.Join(root, "scorecard-test"), 0o755); err != nil {
		o.details = append(o.details, "copying the binary: "+err.Error())
		return o
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "chroot", root, "/scorecard-test", test)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		o.details = append(o.details, fmt.Sprintf("chroot %s /scorecard-test %s: %v: %s", root, test, err, strings.TrimSpace(stderr.String())))
		return o
	}
	var status testStatus
	if err := json.Unmarshal(stdout.Bytes(), &status); err != nil || len(status.Results) == 0 {
		o.details = append(o.details, fmt.Sprintf("unreadable result (%v): %s", err, strings.TrimSpace(stdout.String())))
		return o
	}
	o.state = "pass"
	for _, r := range status.Results {
		if r.State != "pass" {
			o.state = r.State
		}
		for _, e := range r.Errors {
			o.details = append(o.details, "error: "+e)
		}
		for _, s := range r.Suggestions {
			o.details = append(o.details, "suggestion: "+s)
		}
		if r.State != "pass" && r.Log != "" {
			o.details = append(o.details, "log: "+strings.TrimSpace(r.Log))
		}
	}
	return o
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(path, target, 0o644)
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
