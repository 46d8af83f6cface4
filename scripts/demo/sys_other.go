//go:build !linux

package main

import "syscall"

func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) {}
