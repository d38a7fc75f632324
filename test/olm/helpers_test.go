// Package olm checks the OLM packaging: the generated bundle (RBAC, Deployment, install modes,
// metadata) with operator-framework/api, and the file-based catalog's upgrade graph with opm.
package olm

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const packageName = "k8s-aws-operator"

// repoRoot is the repository root (this file is test/olm/helpers_test.go).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func inRepo(t *testing.T, parts ...string) string {
	return filepath.Join(append([]string{repoRoot(t)}, parts...)...)
}

// opmPath is $OPM, or bin/opm-<version pinned in tools/opm/go.mod>. Missing: the test is skipped on a
// developer machine and fails in CI (CI=true), where `make olm-test` builds it first.
func opmPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("OPM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("OPM=%s: %v", p, err)
		}
		return p
	}
	version := ""
	if data, err := os.ReadFile(inRepo(t, "tools", "opm", "go.mod")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/operator-framework/operator-registry" {
				version = f[1]
			}
		}
	}
	p := inRepo(t, "bin", "opm-"+version)
	if _, err := os.Stat(p); err != nil || version == "" {
		msg := "opm is not built (" + p + "): run `make olm-test`, which builds it, or set OPM=<path>"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: not skipping)")
		}
		t.Skip(msg)
	}
	return p
}

// run runs a command and returns its combined output and error.
func run(dir, name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustRun(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out, err := run(dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}
