package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on every Linux platform Go supports).
const clockTicks = 100

// cpuSeconds is the process's user+system CPU time from /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return (ut + st) / clockTicks, nil
}

// parentPid is the parent process id of pid (0 when unknown).
func parentPid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// statTimes are a process's utime+stime and cutime+cstime (its waited-for children's) from /proc/<pid>/stat.
func statTimes(pid int) (own, reaped float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	var t [4]float64
	for k := range t {
		if t[k], err = strconv.ParseFloat(f[11+k], 64); err != nil {
			return 0, 0, fmt.Errorf("parsing /proc/%d/stat", pid)
		}
	}
	return (t[0] + t[1]) / clockTicks, (t[2] + t[3]) / clockTicks, nil
}

// dbCPU is a snapshot of PostgreSQL's CPU time: the postmaster's own and its reaped children's, and each live
// child's (the backends and auxiliary processes).
type dbCPU struct {
	own, reaped float64
	kids        map[int]float64
}

// dbSnapshot reads the CPU times of the postmaster pid and its children.
func dbSnapshot(pid int) dbCPU {
	s := dbCPU{kids: map[int]float64{}}
	s.own, s.reaped, _ = statTimes(pid)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return s
	}
	parent := strconv.Itoa(pid)
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == parent {
			if c, err := cpuSeconds(p); err == nil {
				s.kids[p] = c
			}
		}
	}
	return s
}

// since is PostgreSQL's CPU seconds between s0 and s: what live children used since s0 (all of it for those
// started since), plus what children that exited since s0 used after it (the postmaster's reaped time grew by
// their total), plus the postmaster's own.
func (s dbCPU) since(s0 dbCPU) float64 {
	d := (s.own - s0.own) + (s.reaped - s0.reaped)
	for p, c := range s.kids {
		d += c - s0.kids[p]
	}
	for p, c := range s0.kids {
		if _, alive := s.kids[p]; !alive {
			d -= c
		}
	}
	return max(d, 0)
}

// mallocs scrapes go_memstats_mallocs_total from a Prometheus /metrics endpoint.
func mallocs(metricsURL string) (float64, error) {
	status, body, err := fasthttp.GetTimeout(nil, metricsURL, 5*time.Second)
	if err != nil {
		return 0, fmt.Errorf("scraping %s: %w", metricsURL, err)
	}
	if status != 200 {
		return 0, fmt.Errorf("scraping %s: status %d", metricsURL, status)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "go_memstats_mallocs_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s has no go_memstats_mallocs_total", metricsURL)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
