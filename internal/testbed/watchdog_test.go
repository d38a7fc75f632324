package testbed

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// diesWithoutCleanup is set in the child process of TestControlPlaneDiesWithTheTestProcess.
const diesWithoutCleanup = "TESTBED_DIE_WITHOUT_CLEANUP"

// A test process that dies without stopping its control plane (a timeout, a panic, kill -9) must
// not leave kube-apiserver and etcd running: the watchdog kills them.
func TestControlPlaneDiesWithTheTestProcess(t *testing.T) {
	if os.Getenv(diesWithoutCleanup) == "1" {
		cp, err := StartControlPlane()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		fmt.Println("pids:", strings.Trim(fmt.Sprint(childPIDs("kube-apiserver", "etcd")), "[]"))
		_ = cp // deliberately never stopped
		os.Exit(1)
	}
	if _, err := AssetsDir(); err != nil {
		t.Skip(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestControlPlaneDiesWithTheTestProcess$")
	child.Env = append(os.Environ(), diesWithoutCleanup+"=1")
	out, _ := child.StdoutPipe()
	require.NoError(t, child.Start())
	var pids []int
	scanner := bufio.NewScanner(out)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), "pids: "); ok {
			for _, field := range strings.Fields(rest) {
				pid, err := strconv.Atoi(field)
				require.NoError(t, err)
				pids = append(pids, pid)
			}
		}
	}
	_ = child.Wait()
	require.Len(t, pids, 2, "the child saw kube-apiserver and etcd")
	require.Eventually(t, func() bool {
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "kube-apiserver and etcd outlived the test process")
}
