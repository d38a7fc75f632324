//go:build unix

package testbed

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a program a test runs as a child process (a controller, a catalog server, the operator
// binary), with its output in a log file. Like kube-apiserver and etcd it runs in its own process
// group under a watchdog, so it is killed even when the test process dies without stopping it.
type Process struct {
	Name    string
	LogPath string

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	watchdog io.WriteCloser
}

// StartProcess starts cmd with its output going to a new log file at logPath.
func StartProcess(name, logPath string, cmd *exec.Cmd) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = detachedProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	watchdog, err := watchProcessGroups(cmd.Process.Pid)
	if err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		_ = logFile.Close()
		return nil, err
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, exited: make(chan struct{}), watchdog: watchdog}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// Exited reports whether the process has ended, and with which error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.exited:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop asks the process to end (SIGTERM), kills its process group if it has not ended within grace,
// and dismisses the watchdog. It returns an error only if the process had to be killed.
func (p *Process) Stop(grace time.Duration) error {
	defer p.dismissWatchdog()
	if exited, _ := p.Exited(); exited {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", p.Name, grace)
	}
}

func (p *Process) dismissWatchdog() {
	_, _ = io.WriteString(p.watchdog, "done\n")
	_ = p.watchdog.Close()
}

// watchProcessGroups starts a shell in its own process group that kills the given process groups when
// its stdin closes without "done" first, which happens when this process exits in any way. It says
// `kill -s KILL`: dash, /bin/sh on Debian and Ubuntu, rejects `kill -s KILL -- -pid` ("Illegal number").
func watchProcessGroups(pgids ...int) (io.WriteCloser, error) {
	groups := make([]string, 0, len(pgids))
	for _, pgid := range pgids {
		groups = append(groups, "-"+strconv.Itoa(pgid))
	}
	script := `read -r word; [ "$word" = done ] && exit 0; kill -s KILL -- ` + strings.Join(groups, " ") + ` 2>/dev/null; exit 0`
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = detachedProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting a watchdog: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return stdin, nil
}
