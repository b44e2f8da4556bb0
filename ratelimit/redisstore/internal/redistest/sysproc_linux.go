package redistest

import (
	"os"
	"os/exec"
	"syscall"
)

var sigStop, sigCont os.Signal = syscall.SIGSTOP, syscall.SIGCONT

// dieWithParent makes the kernel kill redis-server when the test process
// dies without cleaning up (a fuzz worker killed by its coordinator, a
// test binary killed at its timeout).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
