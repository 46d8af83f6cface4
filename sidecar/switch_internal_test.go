package sidecar

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pgway/pgway/internal/config"
)

// TestServerHostIPv6: server-host "!6" listens on IPv6 only, "!4" on IPv4 only (warp's host preferences, as
// PostgREST binds them).
func TestServerHostIPv6(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 on this machine:", err)
	} else {
		ln.Close()
	}
	for host, want := range map[string][2]bool{"!6": {true, false}, "!4": {false, true}} {
		cfg := config.Default()
		cfg.ServerHost, cfg.ServerPort = host, 0
		ln, _, err := (&Server{cfg: cfg}).listen()
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		for i, addr := range []string{"[::1]:" + port, "127.0.0.1:" + port} {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err == nil {
				c.Close()
			}
			if (err == nil) != want[i] {
				t.Errorf("server-host %s: dialing %s: %v", host, addr, err)
			}
		}
		ln.Close()
	}
}
