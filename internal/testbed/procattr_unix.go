//go:build unix

package testbed

import "syscall"

// detachedProcAttr puts the watchdog in its own process group, so a Ctrl-C to the test's group
// does not kill it before it has done its job.
func detachedProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
