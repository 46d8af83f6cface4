package sidecar

import (
	"testing"
	"time"

	"github.com/pgway/pgway/sidecar/internal/dbexec"
)

// TestWALHistoryLag: a replica's lag is the WAL between its replay position and the primary's last sample, and
// the time since the first sample past its replay position.
func TestWALHistoryLag(t *testing.T) {
	var w walHistory
	t0 := time.Unix(1000, 0)
	if b, d := w.lag(5, t0); b != 0 || d != 0 {
		t.Errorf("no samples: %d, %v", b, d)
	}
	w.add(t0, 100)
	w.add(t0.Add(time.Second), 100) // unchanged: not kept
	w.add(t0.Add(2*time.Second), 300)
	w.add(t0.Add(3*time.Second), 200) // backwards (another primary?): not kept
	now := t0.Add(5 * time.Second)
	for _, c := range []struct {
		replay dbexec.LSN
		bytes  int64
		d      time.Duration
	}{{300, 0, 0}, {400, 0, 0}, {250, 50, 3 * time.Second}, {100, 200, 3 * time.Second}, {50, 250, 5 * time.Second}} {
		if b, d := w.lag(c.replay, now); b != c.bytes || d != c.d {
			t.Errorf("lag(%d) = %d, %v; want %d, %v", c.replay, b, d, c.bytes, c.d)
		}
	}
	for i := range walSamples + 10 {
		w.add(t0.Add(time.Duration(i)*time.Millisecond), dbexec.LSN(1000+i))
	}
	if n := len(w.samples); n > walSamples {
		t.Errorf("%d samples kept", n)
	}
}

// TestPick: the replica in rotation with the fewest exchanges in flight that has replayed what the read needs and
// was not tried; round robin among equals.
func TestPick(t *testing.T) {
	rs := &replicas{}
	for range 3 {
		b := &backend{}
		b.healthy.Store(true)
		b.replay.Store(100)
		rs.list = append(rs.list, b)
	}
	seen := map[int]int{}
	for range 30 {
		seen[rs.pick(50, 0)]++
	}
	if len(seen) != 3 || seen[0] != 10 {
		t.Errorf("round robin among equals: %v", seen)
	}
	rs.list[0].inflight.Store(2)
	rs.list[1].inflight.Store(1)
	if i := rs.pick(0, 0); i != 2 {
		t.Errorf("least loaded: %d", i)
	}
	if i := rs.pick(0, 1<<2); i != 1 {
		t.Errorf("least loaded not tried: %d", i)
	}
	rs.list[1].healthy.Store(false)
	rs.list[2].replay.Store(10)
	if i := rs.pick(50, 0); i != 0 {
		t.Errorf("healthy and replayed: %d", i)
	}
	if i := rs.pick(200, 0); i != -1 {
		t.Errorf("none replayed 200: %d", i)
	}
}
