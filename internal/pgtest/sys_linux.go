package pgtest

import "syscall"

// setDeathSignal makes the kernel send sig to the child when this process dies, so a test binary that panics,
// times out or is killed does not leave postgres running.
func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) { attr.Pdeathsig = sig }

// fastBase returns /dev/shm when it is a tmpfs with room to spare: clusters there start and create databases
// several times faster than on disk, and durability is off anyway.
func fastBase() (string, bool) {
	const tmpfsMagic = 0x01021994
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil || st.Type != tmpfsMagic {
		return "", false
	}
	if uint64(st.Bavail)*uint64(st.Bsize) < 2<<30 {
		return "", false
	}
	return "/dev/shm", true
}
