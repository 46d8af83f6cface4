package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// largeCase is one large read: GET /items of every row in one media type.
type largeCase struct {
	name   string
	accept string
	csv    bool
}

var largeCases = []largeCase{
	{name: "all-json", accept: "application/json"},
	{name: "all-csv", accept: "text/csv", csv: true},
}

// largeResponse is what one client saw.
type largeResponse struct {
	status    int
	ctype     string
	ttfb      time.Duration // request written → first response byte (the status line)
	firstBody time.Duration // request start → first body byte
	total     time.Duration // request start → end of body
	bytes     int64
	elements  int64 // JSON array elements, or CSV records after the header
	err       string
}

// procMem is a process's memory from /proc/<pid>/status, in bytes.
type procMem struct {
	rss, hwm, anon int64
}

func readProcMem(pid int) (procMem, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procMem{}, err
	}
	var m procMem
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		n *= 1024 // kB
		switch k {
		case "VmRSS":
			m.rss = n
		case "VmHWM":
			m.hwm = n
		case "RssAnon":
			m.anon = n
		}
	}
	return m, nil
}

// resetHWM resets the process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0; needs to own the process or root).
func resetHWM(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// backendMem is one PostgreSQL backend's memory over a large read.
type backendMem struct {
	first    procMem // when first sampled
	peakRSS  int64   // sampled
	peakAnon int64   // sampled: private memory (palloc'd result, sort, hash…), without shared buffers
	hwm      int64   // VmHWM at the end (includes shared buffers it touched)
	hwmReset bool
}

// memSampler samples pgway's and its backends' memory every period until stopped.
type memSampler struct {
	pid      int
	conn     *pgx.Conn
	period   time.Duration
	peakRSS  int64
	backends map[int]*backendMem
	err      error
	stopc    chan struct{}
	done     chan struct{}
}

// pgwayBackends are the pids of pgway's connections (application_name pgway).
func pgwayBackends(ctx context.Context, conn *pgx.Conn) ([]int, error) {
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgway'")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

func startSampler(ctx context.Context, pid int, conn *pgx.Conn, period time.Duration) *memSampler {
	s := &memSampler{pid: pid, conn: conn, period: period, backends: map[int]*backendMem{},
		stopc: make(chan struct{}), done: make(chan struct{})}
	// Backends already there start with their peak reset.
	if pids, err := pgwayBackends(ctx, conn); err == nil {
		for _, p := range pids {
			s.backends[p] = &backendMem{hwmReset: resetHWM(p) == nil}
		}
	} else {
		s.err = err
	}
	go s.loop(ctx)
	return s
}

func (s *memSampler) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.period)
	defer t.Stop()
	lastList := time.Now()
	for {
		s.sample()
		select {
		case <-s.stopc:
			s.sample()
			return
		case <-t.C:
		}
		if time.Since(lastList) >= 200*time.Millisecond {
			lastList = time.Now()
			if pids, err := pgwayBackends(ctx, s.conn); err == nil {
				for _, p := range pids {
					if s.backends[p] == nil {
						s.backends[p] = &backendMem{}
					}
				}
			} else if s.err == nil {
				s.err = err
			}
		}
	}
}

func (s *memSampler) sample() {
	if m, err := readProcMem(s.pid); err == nil {
		s.peakRSS = max(s.peakRSS, m.rss)
	}
	for p, b := range s.backends {
		m, err := readProcMem(p)
		if err != nil {
			continue
		}
		if b.first.rss == 0 {
			b.first = m
		}
		b.peakRSS = max(b.peakRSS, m.rss)
		b.peakAnon = max(b.peakAnon, m.anon)
		b.hwm = max(b.hwm, m.hwm)
	}
}

func (s *memSampler) stop() {
	close(s.stopc)
	<-s.done
}

// largeResult is one large case.
type largeResult struct {
	c          largeCase
	responses  []largeResponse
	rss0       int64 // pgway's VmRSS before
	hwm        int64 // pgway's VmHWM after (reset before, when hwmReset)
	hwmReset   bool
	sampledRSS int64 // pgway's sampled peak VmRSS
	backend    backendMem
	backendPid int
	backends   int
	cpu, dbCPU float64
	clientCPU  float64 // this process: reading and validating the responses
	wall       time.Duration
	note       string
}

func (r largeResult) rssGrowth() int64 {
	if r.hwmReset {
		return max(r.hwm, r.sampledRSS) - r.rss0
	}
	return r.sampledRSS - r.rss0
}

// runLarge is -large: for each large case, a fresh pgway answers -large-conns concurrent GET /items of every row.
func runLarge(ctx context.Context, o options, e *env) error {
	if o.subject != "pgway" {
		return errors.New("-large measures pgway only (-subject pgway)")
	}
	bin := e.tmp + "/pgway"
	if err := goBuild(ctx, e.root, bin, "./cmd/pgway"); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, e.superURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var results []largeResult
	for i, c := range largeCases {
		s := &server{name: "pgway", bin: bin, args: []string{"serve"}, logName: "pgway-" + c.name}
		if err := s.start(ctx, e.authURL, max(o.pool, o.largeConns), e.tmp); err != nil {
			return err
		}
		r := largeRun(ctx, s, c, o, e, conn)
		s.stop()
		results = append(results, r)
		log.Printf("%s: %s", c.name, summarizeLarge(r))
		if err := ctx.Err(); err != nil {
			return err
		}
		if i < len(largeCases)-1 {
			time.Sleep(time.Second) // let PostgreSQL reap the old backends
		}
	}
	report := renderLarge(o, results, machine(e.pgVersion))
	fmt.Println(report)
	return writeReport(o, e.root, report, largeHeading)
}

func largeRun(ctx context.Context, s *server, c largeCase, o options, e *env, conn *pgx.Conn) largeResult {
	pid := s.pid()
	r := largeResult{c: c}
	url := fmt.Sprintf("http://127.0.0.1:%d/items", s.port)
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: o.largeConns}}
	if err := largeWarm(ctx, client, url, o.largeConns, conn); err != nil {
		r.note = "warm-up: " + err.Error()
	}
	m0, _ := readProcMem(pid)
	r.rss0 = m0.rss
	r.hwmReset = resetHWM(pid) == nil
	cpu0, _ := cpuSeconds(pid)
	var db0 dbCPU
	if e.pgPid > 0 {
		db0 = dbSnapshot(e.pgPid)
	}
	self0, _ := cpuSeconds(os.Getpid())
	// One OS thread per reader and more: with GOMAXPROCS at the machine's 2 cores, a reader whose first bytes
	// arrived waits for a Go scheduler slot behind the other readers' validation (up to a 10 ms preemption
	// tick each), and that wait would count as pgway's time to first byte.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2*o.largeConns + 2))
	sampler := startSampler(ctx, pid, conn, o.largeSample)
	r.responses = make([]largeResponse, o.largeConns)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range o.largeConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.responses[i] = largeGet(ctx, client, url, c, o.rows, o.largeCheck)
		}()
	}
	wg.Wait()
	r.wall = time.Since(t0)
	sampler.stop()

	cpu1, _ := cpuSeconds(pid)
	self1, _ := cpuSeconds(os.Getpid())
	r.cpu, r.clientCPU = cpu1-cpu0, self1-self0
	r.dbCPU = -1
	if e.pgPid > 0 {
		r.dbCPU = dbSnapshot(e.pgPid).since(db0)
	}
	m1, _ := readProcMem(pid)
	r.hwm, r.sampledRSS = m1.hwm, sampler.peakRSS
	r.backends = len(sampler.backends)
	for p, b := range sampler.backends {
		if b.peakAnon-b.first.anon > r.backend.peakAnon-r.backend.first.anon || r.backendPid == 0 {
			r.backend, r.backendPid = *b, p
		}
	}
	if sampler.err != nil {
		r.note = "listing pgway's backends: " + sampler.err.Error()
	}
	if e.pgPid == 0 {
		r.note = "PostgreSQL is not ours (-db): no backend memory or DB CPU"
	}
	return r
}

// largeWarm opens the pool's connections before a case is measured, as a running server has them: rounds of
// conns concurrent GET url?limit=20000 until pgway has conns PostgreSQL connections besides its listener (at most
// ten rounds). A fresh server's first requests would otherwise also pay for starting PostgreSQL backends
// (authentication, empty catalog caches) next to the streams already running, which is not what time to first
// byte measures: one such request took 200-450 ms where the others took 30-100.
func largeWarm(ctx context.Context, client *http.Client, url string, conns int, db *pgx.Conn) error {
	for range 10 {
		errs := make(chan error, conns)
		for range conns {
			go func() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"?limit=20000", nil)
				if err == nil {
					var resp *http.Response
					if resp, err = client.Do(req); err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
				}
				errs <- err
			}()
		}
		for range conns {
			if err := <-errs; err != nil {
				return err
			}
		}
		var open int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'pgway' AND query NOT ILIKE 'listen%'`).Scan(&open); err != nil {
			return err
		}
		if open >= conns {
			return nil
		}
	}
	return fmt.Errorf("pgway did not open %d connections", conns)
}

// largeGet reads one response, validating and counting while it streams (the body is never held whole).
func largeGet(ctx context.Context, client *http.Client, url string, c largeCase, rows int, check bool) largeResponse {
	var res largeResponse
	var wrote time.Time
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
		GotFirstResponseByte: func() { res.ttfb = time.Since(wrote) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		res.err = err.Error()
		return res
	}
	req.Header.Set("Accept", c.accept)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer resp.Body.Close()
	res.status, res.ctype = resp.StatusCode, resp.Header.Get("Content-Type")
	var v validator = &jsonArrayCounter{structureOnly: !check}
	if c.csv {
		v = &csvCounter{}
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if res.bytes == 0 {
				res.firstBody = time.Since(start)
			}
			res.bytes += int64(n)
			if verr := v.Write(buf[:n]); verr != nil && res.err == "" {
				res.err = fmt.Sprintf("invalid at byte %d: %v", res.bytes, verr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			res.err = err.Error()
			break
		}
	}
	res.total = time.Since(start)
	count, verr := v.Finish()
	res.elements = count
	switch {
	case res.err != "":
	case res.status != http.StatusOK:
		res.err = fmt.Sprintf("status %d", res.status)
	case verr != nil:
		res.err = verr.Error()
	case count != int64(rows):
		res.err = fmt.Sprintf("%d elements, want %d", count, rows)
	}
	return res
}

// validator checks a streamed body piece by piece and counts its elements.
type validator interface {
	Write(p []byte) error
	Finish() (int64, error)
}

// jsonArrayCounter checks that a stream is one JSON array and counts its elements: it finds each element's
// bounds (nesting and strings) and checks the element with json.Valid, holding only one element at a time.
type jsonArrayCounter struct {
	state   int // 0 before '[', 1 expecting an element (or ']' when none yet), 2 in an element, 3 after one, 4 done
	depth   int
	inStr   bool
	esc     bool
	scalar  bool // the element is a number or literal (ends at a delimiter)
	elem    []byte
	count   int64
	pending bool // a comma was read: an element must follow
	err     error
	// structureOnly skips json.Valid: elements are only delimited (nesting, strings) and counted.
	structureOnly bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func (v *jsonArrayCounter) finishElem() {
	if !v.structureOnly && !json.Valid(v.elem) {
		v.err = fmt.Errorf("element %d is not valid JSON: %.80q", v.count+1, v.elem)
		return
	}
	v.count++
	v.elem = v.elem[:0]
	v.state = 3
}

func (v *jsonArrayCounter) Write(p []byte) error {
	if v.err != nil {
		return v.err
	}
	i := 0
	for i < len(p) && v.err == nil {
		switch v.state {
		case 0, 3, 4:
			c := p[i]
			i++
			if isSpace(c) {
				continue
			}
			switch {
			case v.state == 0 && c == '[':
				v.state = 1
			case v.state == 3 && c == ',':
				v.state, v.pending = 1, true
			case v.state == 3 && c == ']':
				v.state = 4
			default:
				v.err = fmt.Errorf("unexpected %q after element %d", c, v.count)
			}
		case 1:
			c := p[i]
			if isSpace(c) {
				i++
				continue
			}
			if c == ']' {
				if v.pending {
					v.err = errors.New("trailing comma")
					break
				}
				i++
				v.state = 4
				continue
			}
			v.state, v.pending, v.depth, v.inStr, v.esc = 2, false, 0, false, false
			v.scalar = c != '{' && c != '[' && c != '"'
		case 2:
			// Scan to the end of the element or of p, then keep the scanned bytes.
			start := i
			end := -1
			for i < len(p) {
				if v.esc {
					v.esc = false
					i++
					continue
				}
				if v.inStr {
					j := indexQuoteOrBackslash(p[i:])
					if j < 0 {
						break // end < 0: the element goes on in the next chunk
					}
					i += j
					if p[i] == '\\' {
						v.esc = true
						i++
						continue
					}
					v.inStr = false
					i++
					if v.depth == 0 {
						end = i
						break
					}
					continue
				}
				c := p[i]
				if v.scalar {
					if c == ',' || c == ']' || isSpace(c) {
						end = i // the delimiter is not the element's
						break
					}
					i++
					continue
				}
				i++
				switch c {
				case '"':
					v.inStr = true
				case '{', '[':
					v.depth++
				case '}', ']':
					v.depth--
					if v.depth == 0 {
						end = i
					}
				}
				if end >= 0 {
					break
				}
			}
			if end < 0 {
				if !v.structureOnly {
					v.elem = append(v.elem, p[start:]...)
				}
				i = len(p)
				continue
			}
			if !v.structureOnly {
				v.elem = append(v.elem, p[start:end]...)
			}
			i = end
			v.finishElem()
		}
	}
	return v.err
}

// indexQuoteOrBackslash is the index of the first '"' or '\\' in p (-1 if none), with two vectorised scans.
func indexQuoteOrBackslash(p []byte) int {
	q := bytes.IndexByte(p, '"')
	if q < 0 {
		return bytes.IndexByte(p, '\\')
	}
	if b := bytes.IndexByte(p[:q], '\\'); b >= 0 {
		return b
	}
	return q
}

func (v *jsonArrayCounter) Finish() (int64, error) {
	if v.err == nil && v.state == 2 && v.scalar {
		v.finishElem()
	}
	if v.err == nil && v.state != 4 {
		v.err = errors.New("the array does not end")
	}
	return v.count, v.err
}

// csvCounter checks that a stream is CSV whose records all have the header's number of fields and counts the
// records after the header (RFC 4180 quoting; a quoted field may hold commas, quotes and line breaks).
type csvCounter struct {
	inQuotes    bool
	fields      int // fields so far in the current record (commas + 1 once it has any byte)
	recordBytes int
	header      int // the header's field count (0 until read)
	records     int64
	err         error
}

func (v *csvCounter) endRecord() {
	if v.recordBytes == 0 {
		return // blank line
	}
	n := v.fields + 1
	if v.header == 0 {
		v.header = n
	} else if n != v.header {
		v.err = fmt.Errorf("record %d has %d fields, the header %d", v.records+1, n, v.header)
		return
	} else {
		v.records++
	}
	v.fields, v.recordBytes = 0, 0
}

func (v *csvCounter) Write(p []byte) error {
	for i := 0; i < len(p) && v.err == nil; i++ {
		c := p[i]
		if v.inQuotes {
			if c == '"' {
				v.inQuotes = false // a doubled quote re-enters at once
			}
			continue
		}
		switch c {
		case '"':
			v.inQuotes = true
			v.recordBytes++
		case ',':
			v.fields++
			v.recordBytes++
		case '\n':
			v.endRecord()
		case '\r':
		default:
			v.recordBytes++
		}
	}
	return v.err
}

func (v *csvCounter) Finish() (int64, error) {
	if v.err == nil && v.inQuotes {
		v.err = errors.New("unterminated quoted field")
	}
	if v.err == nil {
		v.endRecord()
	}
	if v.err == nil && v.header == 0 {
		v.err = errors.New("no header")
	}
	return v.records, v.err
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func durs(rs []largeResponse, f func(largeResponse) time.Duration) (p50, maxd time.Duration) {
	var d []time.Duration
	for _, r := range rs {
		d = append(d, f(r))
	}
	slices.Sort(d)
	if len(d) == 0 {
		return 0, 0
	}
	return d[len(d)/2], d[len(d)-1]
}

func summarizeLarge(r largeResult) string {
	t50, tmax := durs(r.responses, func(x largeResponse) time.Duration { return x.ttfb })
	_, total := durs(r.responses, func(x largeResponse) time.Duration { return x.total })
	invalid := 0
	for _, x := range r.responses {
		if x.err != "" {
			invalid++
		}
	}
	return fmt.Sprintf("%d responses, %d invalid, TTFB p50 %v max %v, slowest %v, pgway RSS +%.0f MiB, largest backend private +%.0f MiB",
		len(r.responses), invalid, t50.Round(time.Millisecond), tmax.Round(time.Millisecond), total.Round(time.Millisecond),
		mib(r.rssGrowth()), mib(r.backend.peakAnon-r.backend.first.anon))
}

// renderLarge is -large's section of the report.
func renderLarge(o options, rs []largeResult, mach string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", largeHeading)
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s; 1-min load average %s before, %s after the run (includes this run's own load)\n",
		mach, o.loadBefore, loadAvg())
	mode := "full"
	if o.quick {
		mode = "quick (smoke run, not for comparison)"
	}
	fmt.Fprintf(&b, "- run: %s (`-large`); %d rows; per case a fresh `pgway serve` (db-pool %d) answers %d concurrent `GET /items` "+
		"(every row) on their own connections, after a warm-up that opens the pool's connections (rounds of as many concurrent `GET /items?limit=20000` until pgway has that many PostgreSQL connections); memory sampled every %v\n", mode, o.rows, max(o.pool, o.largeConns), o.largeConns, o.largeSample)
	fmt.Fprintf(&b, "- columns: TTFB is request written → first response byte; first body is request start → first body byte; "+
		"RSS growth is pgway's peak (VmHWM, reset before the case, and sampled VmRSS) minus its VmRSS before; the largest backend "+
		"is pgway's PostgreSQL backend (application_name pgway) whose private memory (RssAnon) grew most, shown as peak RSS (VmRSS, "+
		"including shared buffers it touched) / private growth; valid means status 200 and a well-formed JSON array (each element "+
		"checked with json.Valid unless -large-validate=false) or CSV (every record the header's field count) of exactly %d elements, counted while streaming; client CPU is the driver's own (reading and validating, on the same cores)\n",
		o.rows)
	fmt.Fprintf(&b, "- targets (issue #14 item 4): RSS growth < 64 MiB, no backend building the whole result (private growth < ¼ of "+
		"a response and < 64 MiB), TTFB < 100 ms; measured before the redesign at 1,000,000 rows: RSS +1,564 MiB, largest "+
		"backend 709 MiB, first byte after 10.8 s\n\n")
	b.WriteString("| case | responses | valid | MiB each | TTFB p50 / max ms | first body max ms | total p50 / max s | pgway RSS growth MiB | largest backend MiB (RSS / private) | pgway CPU s | DB CPU s | client CPU s | targets |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	var notes []string
	for _, r := range rs {
		valid := 0
		var size int64
		for i, x := range r.responses {
			if x.err == "" {
				valid++
			} else {
				notes = append(notes, fmt.Sprintf("%s response %d: %s (status %d, %s, %d bytes, %d elements)", r.c.name, i+1, x.err,
					x.status, x.ctype, x.bytes, x.elements))
			}
			size = max(size, x.bytes)
		}
		t50, tmax := durs(r.responses, func(x largeResponse) time.Duration { return x.ttfb })
		_, fbmax := durs(r.responses, func(x largeResponse) time.Duration { return x.firstBody })
		tot50, totmax := durs(r.responses, func(x largeResponse) time.Duration { return x.total })
		growth := r.rssGrowth()
		priv := r.backend.peakAnon - r.backend.first.anon
		var met []string
		mark := func(name string, ok bool) {
			if ok {
				met = append(met, name+" ✓")
			} else {
				met = append(met, name+" ✗")
			}
		}
		mark("RSS", growth < 64<<20)
		if r.backendPid != 0 {
			mark("backend", priv < min(64<<20, size/4))
		}
		mark("TTFB", tmax < 100*time.Millisecond)
		backend := "n/a"
		if r.backendPid != 0 {
			backend = fmt.Sprintf("%.0f / %.0f", mib(r.backend.peakRSS), mib(priv))
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %.1f / %.1f | %.1f | %.2f / %.2f | %.0f | %s | %.2f | %s | %.2f | %s |\n",
			r.c.name, len(r.responses), valid, mib(size), ms(t50), ms(tmax), ms(fbmax), tot50.Seconds(), totmax.Seconds(),
			mib(growth), backend, r.cpu, num(r.dbCPU, 2), r.clientCPU, strings.Join(met, ", "))
		if !r.hwmReset {
			notes = append(notes, r.c.name+": could not reset pgway's VmHWM; RSS growth is from sampling alone")
		}
		if r.note != "" {
			notes = append(notes, r.c.name+": "+r.note)
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}
