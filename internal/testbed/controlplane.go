// Package testbed starts what the integration tests, the demo and the benchmark share: a real
// kube-apiserver + etcd (controller-runtime envtest, binaries built by `make envtest`) with the
// operator's CRDs, and the local AWS emulator. It stops them again even when the test process dies
// without cleaning up (test timeout, panic, Ctrl-C): a watchdog process kills them then.
package testbed

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the repository's top folder, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ControlPlane is a running kube-apiserver + etcd with the operator's CRDs installed.
type ControlPlane struct {
	Env      *envtest.Environment
	Config   *rest.Config
	watchdog io.WriteCloser
}

// StartControlPlane starts etcd and kube-apiserver from KUBEBUILDER_ASSETS (set by the Makefile)
// or from the repository's bin/k8s folder, with the CRDs of config/crd/bases.
func StartControlPlane() (*ControlPlane, error) {
	return StartControlPlaneWithCRDs(filepath.Join(RepoRoot(), "config", "crd", "bases"))
}

// StartControlPlaneWithCRDs is StartControlPlane with CRDs from the given files or folders.
func StartControlPlaneWithCRDs(crdPaths ...string) (*ControlPlane, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	// The issuer discovery document names the JWKS at the advertise address; keep it on loopback
	// (the default is a TEST-NET address that nothing here may contact).
	// A loopback advertise address needs the endpoint reconciler off (envtest has no nodes anyway).
	apiServerArgs := env.ControlPlane.GetAPIServer().Configure()
	apiServerArgs.Set("advertise-address", "127.0.0.1")
	apiServerArgs.Set("endpoint-reconciler-type", "none")
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s (run `make envtest`): %w", assets, err)
	}
	watchdog, err := watchProcessGroups(childPIDs("kube-apiserver", "etcd")...)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &ControlPlane{Env: env, Config: cfg, watchdog: watchdog}, nil
}

// Stop stops kube-apiserver and etcd and dismisses the watchdog.
func (cp *ControlPlane) Stop() error {
	err := cp.Env.Stop()
	_, _ = io.WriteString(cp.watchdog, "done\n")
	_ = cp.watchdog.Close()
	return err
}

// AssetsDir is the folder holding kube-apiserver and etcd.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob(filepath.Join(RepoRoot(), "bin", "k8s", "*-"+runtime.GOOS+"-"+runtime.GOARCH, "kube-apiserver"))
	if len(matches) == 0 {
		return "", fmt.Errorf("no kube-apiserver/etcd found: run `make envtest` or set KUBEBUILDER_ASSETS")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// childPIDs lists this process's children whose command name is one of names. envtest starts
// each in its own process group, so the pid is also the group to kill.
func childPIDs(names ...string) []int {
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// stat is "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		comm := s[open+1 : closing]
		if len(fields) > 1 && fields[1] == self && contains(names, comm) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
