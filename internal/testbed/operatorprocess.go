package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildOperator compiles the operator binary into dir and returns its path.
func BuildOperator(ctx context.Context, dir string) (string, error) {
	binary := filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, ".")
	build.Dir, build.Stdout, build.Stderr = RepoRoot(), os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building the operator: %w", err)
	}
	return binary, nil
}

// WriteKubeconfig writes an admin kubeconfig for the bed's API server to path.
func (b *Bed) WriteKubeconfig(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.ControlPlane.Env.KubeConfig, 0o600)
}

// OperatorCommand runs the operator binary against the bed as a deployment would run it, for
// StartProcess: the kubeconfig's API server, the AWS SDK pointed at the emulator through
// AWS_ENDPOINT_URL, plain-HTTP metrics and probes on free loopback ports. args come after those
// defaults, so a flag given there wins.
func (b *Bed) OperatorCommand(binary, kubeconfig string, args ...string) *exec.Cmd {
	defaults := []string{"--metrics-secure=false", "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0"}
	cmd := exec.Command(binary, append(defaults, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "AWS_ENDPOINT_URL="+b.EmulatorURL)
	return cmd
}
