package main

import "syscall"

// setDeathSignal makes the kernel signal the child when the demo dies without stopping it.
func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) { attr.Pdeathsig = sig }
