package sidecar_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pgway/pgway/sidecar"
)

// bigFixture: a view whose JSON is about 8 MB, more than the kernel buffers a connection on loopback.
const bigFixture = `
CREATE VIEW api.big AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, 8400) g;
GRANT SELECT ON api.big TO web_anon;`

// throttled reads at most chunk bytes every pause, as a slow client does; stall, once, stops reading for that
// long after the first read.
type throttled struct {
	r            io.Reader
	chunk        int
	pause, stall time.Duration
}

func (t *throttled) Read(p []byte) (int, error) {
	if t.stall > 0 {
		defer func() { time.Sleep(t.stall); t.stall = 0 }()
	} else {
		time.Sleep(t.pause)
	}
	return t.r.Read(p[:min(len(p), t.chunk)])
}

// TestSlowReader: a response write times out only when it makes no progress: a client reading an 8 MB body at
// about 2 MB/s gets all of it although that takes several times the write timeout, and a client that stops
// reading for longer than the timeout is dropped.
func TestSlowReader(t *testing.T) {
	const idle = time.Second
	defer sidecar.SetWriteIdleTimeout(idle)()
	ts := start(t, nil, fixture(t), bigFixture)
	addr := strings.TrimPrefix(ts.URL, "http://")
	want := len(ts.get("/big").Body)
	if want < 8<<20 {
		t.Fatalf("body of %d bytes, want 8 MB", want)
	}

	// read GETs /big reading through th; it returns the body bytes read and the error that ended the body.
	read := func(th *throttled) (int64, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.(*net.TCPConn).SetReadBuffer(32 << 10); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "GET /big HTTP/1.1\r\nHost: pgway\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		th.r = conn
		res, err := http.ReadResponse(bufio.NewReaderSize(th, 32<<10), nil)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		return io.Copy(io.Discard, res.Body)
	}

	begin := time.Now()
	n, err := read(&throttled{chunk: 32 << 10, pause: 16 * time.Millisecond})
	took := time.Since(begin)
	if err != nil || n != int64(want) {
		t.Fatalf("slow reader: %d of %d bytes in %v: %v", n, want, took, err)
	}
	if took < 3*idle {
		t.Fatalf("the slow reader took only %v: the test does not show a write outlasting the timeout", took)
	}
	t.Logf("slow reader: %d bytes in %v", n, took.Round(time.Millisecond))

	n, err = read(&throttled{chunk: 32 << 10, stall: 2 * idle})
	if err == nil || n == int64(want) {
		t.Fatalf("a client that stopped reading for %v got %d of %d bytes (%v): want the connection dropped",
			2*idle, n, want, err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		var ne *net.OpError
		if !errors.As(err, &ne) {
			t.Fatalf("stalled reader: %v", err)
		}
	}
}
