// Command bench is pgway's load benchmark: it starts a throwaway PostgreSQL, seeds it, starts pgway and the
// hand-written baseline server (bench/baseline) as subprocesses, drives every scenario in bench/scenario against
// each over loopback, and prints (and writes to bench/RESULTS.md) a markdown table with pgway/baseline ratios.
//
//	go run ./bench             # full run: 1,000,000 rows, 10 s per scenario and server
//	go run ./bench -quick      # smoke run: 100,000 rows, 2 s per scenario
//	go run ./bench -subject baseline -quick   # driver self-test: baseline against a second baseline
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/bench/scenario"
	"github.com/pgway/pgway/internal/pgtest"
)

type options struct {
	conns    int
	duration time.Duration
	warmup   time.Duration
	rows     int
	pool     int
	quick    bool
	subject  string
	only     string
	out      string
	dbURL    string
	pgBin    string
	verbose  bool
	rounds   int

	loadBefore string // 1-minute load average when the run started
}

func main() {
	var o options
	flag.IntVar(&o.conns, "conns", 32, "concurrent keep-alive connections per run")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario and server")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each measurement")
	flag.IntVar(&o.rows, "rows", 1_000_000, "rows seeded into items")
	flag.IntVar(&o.pool, "pool", 10, "database pool size of both servers (PGRST_DB_POOL)")
	flag.BoolVar(&o.quick, "quick", false, "smoke run: 2s per scenario, 0.5s warm-up, 100k rows (explicit flags win)")
	flag.StringVar(&o.subject, "subject", "pgway", "server under test: pgway, or baseline (driver self-test against a second baseline)")
	flag.StringVar(&o.only, "scenarios", "", "comma-separated scenario names to run (default: all)")
	flag.StringVar(&o.out, "out", "bench/RESULTS.md", "markdown report path, relative to the module root (empty: don't write)")
	flag.StringVar(&o.dbURL, "db", os.Getenv("PGWAY_BENCH_DATABASE_URL"), "superuser URL of an existing PostgreSQL to use instead of a throwaway one")
	flag.StringVar(&o.pgBin, "pg-bin", "", "directory with initdb and postgres (default: found by internal/pgtest)")
	flag.IntVar(&o.rounds, "rounds", 2, "measured windows per scenario and server, alternating which server goes first; figures are totals over all windows")
	flag.BoolVar(&o.verbose, "v", false, "log one sample response per scenario and server")
	flag.Parse()
	if o.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			o.duration = 2 * time.Second
		}
		if !set["warmup"] {
			o.warmup = 500 * time.Millisecond
		}
		if !set["rows"] {
			o.rows = 100_000
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

// server is one HTTP server under load, run as a subprocess.
type server struct {
	name       string
	bin        string
	args       []string
	port       int
	adminPort  int
	env        []string // extra environment (scenario.Env)
	logName    string   // log file name when name is not unique
	cmd        *exec.Cmd
	scrapeCost float64 // mallocs caused by one /metrics scrape
}

// measurement is one scenario on one server.
type measurement struct {
	load      loadResult
	cpu       float64 // server CPU seconds in the window
	dbCPU     float64 // PostgreSQL CPU seconds in the window (-1: unknown)
	allocs    float64 // server mallocs in the window (-1: unknown)
	allocsErr string
}

// merge adds another window's figures.
func (m measurement) merge(o measurement) measurement {
	m.load = m.load.merge(o.load)
	m.cpu += o.cpu
	if m.dbCPU < 0 || o.dbCPU < 0 {
		m.dbCPU = -1
	} else {
		m.dbCPU += o.dbCPU
	}
	if m.allocs < 0 || o.allocs < 0 {
		m.allocs = -1
	} else {
		m.allocs += o.allocs
	}
	if m.allocsErr == "" {
		m.allocsErr = o.allocsErr
	}
	return m
}

func (m measurement) rps() float64 { return float64(m.load.Requests) / m.load.Elapsed.Seconds() }
func (m measurement) per1k(v float64) float64 {
	if m.load.Requests == 0 || v < 0 {
		return -1
	}
	return v / float64(m.load.Requests) * 1000
}
func (m measurement) allocsPerReq() float64 {
	if m.load.Requests == 0 || m.allocs < 0 {
		return -1
	}
	return m.allocs / float64(m.load.Requests)
}

func run(ctx context.Context, o options) error {
	o.loadBefore = loadAvg()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	scenarios, err := pick(o.only)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pgway-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Database.
	var pg *pgtest.Server
	if o.dbURL != "" {
		pg, err = pgtest.Existing(o.dbURL)
	} else {
		log.Printf("starting PostgreSQL")
		pg, err = pgtest.StartServer(ctx, pgtest.ServerOptions{BinDir: o.pgBin,
			// synchronize_seqscans off: an unordered page (limit=1000) is the same rows for both servers.
			Settings: map[string]string{"shared_buffers": "256MB", "synchronize_seqscans": "off"}})
	}
	if err != nil {
		return err
	}
	defer pg.Stop()
	superURL := pg.URL("postgres")
	if o.dbURL != "" {
		superURL = o.dbURL
	}
	log.Printf("seeding %d rows", o.rows)
	t0 := time.Now()
	pgVersion, pgPid, err := seed(ctx, superURL, o.rows)
	if err != nil {
		return err
	}
	if o.dbURL != "" {
		pgPid = 0 // a server we did not start may not be on this machine: no DB CPU figures
	}
	log.Printf("seeded in %v", time.Since(t0).Round(time.Millisecond))
	authURL, err := asAuthenticator(superURL)
	if err != nil {
		return err
	}

	// Servers.
	baselineBin := filepath.Join(tmp, "baseline")
	if err := goBuild(ctx, root, baselineBin, "./bench/baseline"); err != nil {
		return err
	}
	subjectName, subjectBin, subjectArgs := "pgway", filepath.Join(tmp, "pgway"), []string{"serve"}
	switch o.subject {
	case "pgway":
		if err := goBuild(ctx, root, subjectBin, "./cmd/pgway"); err != nil {
			return err
		}
	case "baseline":
		subjectName, subjectBin, subjectArgs = "baseline#2", baselineBin, nil
	default:
		return fmt.Errorf("-subject: want pgway or baseline, got %q", o.subject)
	}
	base := &server{name: "baseline", bin: baselineBin}
	if err := base.start(ctx, authURL, o.pool, tmp); err != nil {
		return err
	}
	defer base.stop()
	// One subject process per distinct scenario Env, started on first use.
	subjects := map[string]*server{}
	defer func() {
		for _, s := range subjects {
			s.stop()
		}
	}()
	subjectFor := func(sc scenario.Scenario) (*server, error) {
		key := strings.Join(sc.Env, "\n")
		if s := subjects[key]; s != nil {
			return s, nil
		}
		s := &server{name: subjectName, bin: subjectBin, args: subjectArgs, env: sc.Env}
		if key != "" {
			s.logName = fmt.Sprintf("%s-%d", subjectName, len(subjects))
		}
		if err := s.start(ctx, authURL, o.pool, tmp); err != nil {
			return nil, err
		}
		subjects[key] = s
		return s, nil
	}

	// Load.
	results := make([][2]measurement, len(scenarios))
	diffs := make([]string, len(scenarios))
	for i, sc := range scenarios {
		subject, err := subjectFor(sc)
		if err != nil {
			return err
		}
		if diffs[i] = compare(subject, base, sc, o.rows, o.verbose); diffs[i] != "" {
			log.Printf("%s: responses differ: %s", sc.Name, diffs[i])
		}
		pair := []*server{subject, base}
		for round := range max(o.rounds, 1) {
			for k := range 2 {
				j := (k + round) % 2 // alternate which server goes first
				if err := ctx.Err(); err != nil {
					return err
				}
				s := pair[j]
				m := s.measure(sc, o, pgPid)
				log.Printf("%-16s %-10s %8.0f req/s  p50 %-9v p99 %-9v errors %d %s", sc.Name, s.name, m.rps(),
					m.load.P50.Round(time.Microsecond), m.load.P99.Round(time.Microsecond), m.load.Errors, m.load.FirstErr)
				if round == 0 {
					results[i][j] = m
				} else {
					results[i][j] = results[i][j].merge(m)
				}
			}
		}
		for j := range results[i] {
			results[i][j].load.lat = nil
		}
	}

	report := render(o, subjectName, scenarios, results, diffs, machine(pgVersion))
	fmt.Println(report)
	if o.out != "" {
		path := o.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			return err
		}
		log.Printf("wrote %s", path)
	}
	return nil
}

func pick(only string) ([]scenario.Scenario, error) {
	if only == "" {
		return scenario.All, nil
	}
	var out []scenario.Scenario
	for _, name := range strings.Split(only, ",") {
		found := false
		for _, sc := range scenario.All {
			if sc.Name == strings.TrimSpace(name) {
				out, found = append(out, sc), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-scenarios: unknown scenario %q", name)
		}
	}
	return out, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark from inside the pgway module")
	}
	return filepath.Dir(mod), nil
}

func goBuild(ctx context.Context, root, out, pkg string) error {
	log.Printf("building %s", pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// seed creates the schema and returns PostgreSQL's version string and its postmaster's process id
// (the parent of our backend; 0 when unknown).
func seed(ctx context.Context, superURL string, rows int) (string, int, error) {
	c, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return "", 0, fmt.Errorf("connecting to seed: %w", err)
	}
	defer c.Close(ctx)
	for _, sql := range scenario.Seed(rows) {
		if _, err := c.Exec(ctx, sql); err != nil {
			return "", 0, fmt.Errorf("seeding: %w", err)
		}
	}
	var v string
	var backend int
	if err := c.QueryRow(ctx, "SELECT current_setting('server_version'), pg_backend_pid()").Scan(&v, &backend); err != nil {
		return "", 0, err
	}
	return v, parentPid(backend), nil
}

// asAuthenticator is superURL logged in as the authenticator role both servers use.
func asAuthenticator(superURL string) (string, error) {
	u, err := url.Parse(superURL)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.User = url.UserPassword("authenticator", "bench")
	return u.String(), nil
}

func (s *server) start(ctx context.Context, dbURL string, pool int, logDir string) error {
	var err error
	if s.port, err = freePort(); err != nil {
		return err
	}
	if s.adminPort, err = freePort(); err != nil {
		return err
	}
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Env = append(os.Environ(),
		"PGRST_DB_URI="+dbURL,
		"PGRST_DB_SCHEMAS=public",
		"PGRST_DB_ANON_ROLE=web_anon",
		"PGRST_DB_POOL="+strconv.Itoa(pool),
		"PGRST_SERVER_HOST=127.0.0.1",
		"PGRST_SERVER_PORT="+strconv.Itoa(s.port),
		"PGRST_ADMIN_SERVER_PORT="+strconv.Itoa(s.adminPort),
		"PGRST_LOG_LEVEL=error",
	)
	s.cmd.Env = append(s.cmd.Env, s.env...)
	name := s.logName
	if name == "" {
		name = s.name
	}
	logPath := filepath.Join(logDir, strings.ReplaceAll(name, "#", "")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log.Printf("starting %s on :%d (admin :%d) %s", s.name, s.port, s.adminPort, strings.Join(s.env, " "))
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	ready := fmt.Sprintf("http://127.0.0.1:%d/ready", s.adminPort)
	for {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			s.cmd = nil
			return fmt.Errorf("%s exited during start-up (%v):\n%s", s.name, err, b)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if st, _, err := fasthttp.GetTimeout(nil, ready, time.Second); err == nil && st == 200 {
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			return fmt.Errorf("%s not ready after 60s:\n%s", s.name, b)
		}
	}
	// Calibrate: the allocations one /metrics scrape itself causes, subtracted from each window.
	var costs []float64
	prev, err := mallocs(s.metricsURL())
	for range 3 {
		if err != nil {
			break
		}
		var cur float64
		cur, err = mallocs(s.metricsURL())
		costs = append(costs, cur-prev)
		prev = cur
	}
	if len(costs) > 0 {
		s.scrapeCost = slices.Min(costs)
	}
	return nil
}

func (s *server) metricsURL() string { return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.adminPort) }

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	_ = s.cmd.Process.Kill()
}

// measure runs one scenario against s and collects client and server figures for the measured window.
func (s *server) measure(sc scenario.Scenario, o options, pgPid int) measurement {
	pid := s.cmd.Process.Pid
	var cpu0, db0, m0 float64
	var merr error
	mark := func() {
		cpu0, _ = cpuSeconds(pid)
		if pgPid > 0 {
			db0 = childrenCPUSeconds(pgPid)
		}
		m0, merr = mallocs(s.metricsURL())
	}
	lr := drive("127.0.0.1:"+strconv.Itoa(s.port), sc, o.rows, o.conns, o.warmup, o.duration, mark)
	cpu1, _ := cpuSeconds(pid)
	m := measurement{load: lr, cpu: cpu1 - cpu0, dbCPU: -1, allocs: -1}
	if pgPid > 0 {
		m.dbCPU = childrenCPUSeconds(pgPid) - db0
	}
	if merr == nil {
		m1, err := mallocs(s.metricsURL())
		if err == nil {
			m.allocs = m1 - m0 - s.scrapeCost
		} else {
			merr = err
		}
	}
	if merr != nil {
		m.allocsErr = merr.Error()
	}
	return m
}
