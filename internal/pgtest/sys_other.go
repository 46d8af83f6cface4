//go:build !linux

package pgtest

import "syscall"

func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) {}

func fastBase() (string, bool) { return "", false }

func killTree(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
