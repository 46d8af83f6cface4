// Command bench is pgway's load benchmark: it starts a throwaway PostgreSQL, seeds it, starts pgway and the two
// reference servers (bench/baseline: the same settings statement and SQL as pgway; bench/bare: the plain
// one-statement handler) as subprocesses, drives every scenario in bench/scenario against each over loopback,
// and prints (and writes to bench/RESULTS.md) a markdown table with pgway/baseline and pgway/bare ratios.
//
//	go run ./bench             # full run: 1,000,000 rows, 2 × 10 s per scenario and server
//	go run ./bench -quick      # smoke run: 100,000 rows, 2 × 2 s per scenario
//	go run ./bench -subject baseline -quick   # driver self-test: baseline against a second baseline
//	go run ./bench -statements -profile /tmp/prof -scenarios by-id   # pg_stat_statements table, pprof files
//	go run ./bench -large      # large reads: 8 concurrent GET /items of every row, memory and first byte
//	go run ./bench -bigschema  # 10,000 related tables: schema cache load, OpenAPI document per role, memory
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
	refs     []string
	only     string
	out      string
	dbURL    string
	pgBin    string
	verbose  bool
	rounds   int

	statements  bool     // pg_stat_statements per scenario and server
	profileDir  string   // CPU and allocation profiles go here ("" = none)
	profileWho  []string // servers to profile
	large       bool     // the large-read mode instead of the scenarios
	batch       bool     // the atomic batch section only (insert-1 and batch-10-inserts)
	largeConns  int
	largeSample time.Duration
	largeCheck  bool // json.Valid on every element of a large JSON read
	pgbouncer   bool // the PgBouncer mode instead of the scenario run
	bigschema   bool // the big-schema mode instead of the scenarios
	bigTables   int
	bigViews    int

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
	refs := flag.String("refs", "baseline,bare", "reference servers to run beside the subject: baseline (same SQL), bare (one plain statement)")
	flag.BoolVar(&o.statements, "statements", false, "load pg_stat_statements (track_planning on), reset it before each measured window and report "+
		"statements per request, planning vs execution time and plans per call of the main statement")
	flag.StringVar(&o.profileDir, "profile", "", "directory for pprof CPU and allocation profiles, one extra unmeasured window per scenario "+
		"and profiled server (pgway serves /debug/pprof/ on its admin port with PGRST_ADMIN_SERVER_PPROF=true)")
	who := flag.String("profile-servers", "pgway", "servers -profile captures: any of pgway (the subject), baseline, bare")
	flag.BoolVar(&o.large, "large", false, "large-read mode: -large-conns concurrent GET /items of every row (JSON, then CSV) against a fresh pgway "+
		"each; reports memory, first byte, time and validity instead of the scenarios")
	flag.IntVar(&o.largeConns, "large-conns", 8, "concurrent responses in -large mode")
	flag.DurationVar(&o.largeSample, "large-sample", 20*time.Millisecond, "memory sampling period in -large mode")
	flag.BoolVar(&o.largeCheck, "large-validate", true, "in -large mode, check every JSON element with json.Valid (false: only the array's "+
		"structure, strings and element count, for less client CPU)")
	flag.BoolVar(&o.pgbouncer, "pgbouncer", false, "PgBouncer mode: the scenarios on pgway through PgBouncer (transaction pooling, "+
		"db-prepared-statements = false) and on pgway direct, with and without prepared statements; writes the report's PgBouncer section")
	flag.BoolVar(&o.batch, "batch", false, "atomic batch mode: insert-1 on every server and batch-10-inserts on pgway; writes only the "+
		"report's atomic batch section (time per 10 inserts: one batch vs 10 requests)")
	flag.BoolVar(&o.bigschema, "bigschema", false, "big-schema mode: a schema of -big-tables related tables and -big-views views; "+
		"reports schema cache load, OpenAPI document build time, size and pgway's memory per role, a reload under requests and pgway openapi")
	flag.IntVar(&o.bigTables, "big-tables", 10_000, "tables in -bigschema mode")
	flag.IntVar(&o.bigViews, "big-views", 1_000, "views in -bigschema mode")
	flag.StringVar(&o.only, "scenarios", "", "comma-separated scenario names to run (default: all)")
	flag.StringVar(&o.out, "out", "bench/RESULTS.md", "markdown report path, relative to the module root (empty: don't write)")
	flag.StringVar(&o.dbURL, "db", os.Getenv("PGWAY_BENCH_DATABASE_URL"), "superuser URL of an existing PostgreSQL to use instead of a throwaway one")
	flag.StringVar(&o.pgBin, "pg-bin", "", "directory with initdb and postgres (default: found by internal/pgtest)")
	flag.IntVar(&o.rounds, "rounds", 2, "measured windows per scenario and server, alternating which server goes first; figures are totals over all windows")
	flag.BoolVar(&o.verbose, "v", false, "log one sample response per scenario and server")
	flag.Parse()
	o.refs = splitList(*refs)
	o.profileWho = splitList(*who)
	for _, r := range o.refs {
		if r != "baseline" && r != "bare" {
			log.Fatalf("-refs: want baseline and/or bare, got %q", r)
		}
	}
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
		if !set["big-tables"] {
			o.bigTables = 1_000
		}
		if !set["big-views"] {
			o.bigViews = 100
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
	env        []string // extra environment (scenario.Env, BARE_DB_URI)
	logName    string   // log file name when name is not unique
	cmd        *exec.Cmd
	scrapeCost float64 // mallocs caused by one /metrics scrape
	logPath    string
	side       []int // processes the server relies on whose CPU is measured with it (PgBouncer)
}

// measurement is one scenario on one server.
type measurement struct {
	load      loadResult
	cpu       float64 // server CPU seconds in the window
	dbCPU     float64 // PostgreSQL CPU seconds in the window (-1: unknown)
	allocs    float64 // server mallocs in the window (-1: unknown)
	allocsErr string
	stmts     []stmtStat // pg_stat_statements over the window (-statements)
	stmtsErr  string
	sideCPU   float64 // CPU seconds of the server's side processes (server.side) in the window
}

// merge adds another window's figures.
func (m measurement) merge(o measurement) measurement {
	m.load = m.load.merge(o.load)
	m.cpu += o.cpu
	m.sideCPU += o.sideCPU
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
	m.stmts = mergeStmts(m.stmts, o.stmts)
	if m.stmtsErr == "" {
		m.stmtsErr = o.stmtsErr
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

// kbPerResp is the mean response body as sent, in KB (-1: no request).
func (m measurement) kbPerResp() float64 {
	if m.load.Requests == 0 {
		return -1
	}
	return float64(m.load.Bytes) / float64(m.load.Requests) / 1000
}

// env is what run sets up for both modes.
type env struct {
	root      string
	tmp       string
	superURL  string
	authURL   string // pgway's and the baseline's login (authenticator)
	bareURL   string // the bare handler's login
	pgPid     int    // postmaster (0: not on this machine)
	pgVersion string
	stats     *statements // nil unless -statements
	seedTime  time.Duration
}

func run(ctx context.Context, o options) error {
	o.loadBefore = loadAvg()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pgway-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &env{root: root, tmp: tmp}

	// Database.
	var pg *pgtest.Server
	if o.dbURL != "" {
		pg, err = pgtest.Existing(o.dbURL)
	} else {
		log.Printf("starting PostgreSQL")
		// synchronize_seqscans off: an unordered page (limit=1000) is the same rows for every server.
		settings := map[string]string{"shared_buffers": "256MB", "synchronize_seqscans": "off"}
		if o.bigschema {
			settings["max_locks_per_transaction"] = "256" // GRANT … ON ALL TABLES locks every table
		}
		if o.statements {
			settings["shared_preload_libraries"] = "pg_stat_statements"
			settings["pg_stat_statements.track_planning"] = "on"
			settings["pg_stat_statements.max"] = "10000"
		}
		pg, err = pgtest.StartServer(ctx, pgtest.ServerOptions{BinDir: o.pgBin, Settings: settings})
	}
	if err != nil {
		return err
	}
	defer pg.Stop()
	e.superURL = pg.URL("postgres")
	if o.dbURL != "" {
		e.superURL = o.dbURL
	}
	t0 := time.Now()
	if o.bigschema {
		log.Printf("seeding %d tables and %d views", o.bigTables, o.bigViews)
		e.pgVersion, e.pgPid, err = seed(ctx, e.superURL, BigSchemaSQL(o.bigTables, o.bigViews))
	} else {
		log.Printf("seeding %d rows", o.rows)
		e.pgVersion, e.pgPid, err = seed(ctx, e.superURL, scenario.Seed(o.rows))
	}
	if err != nil {
		return err
	}
	e.seedTime = time.Since(t0)
	if o.dbURL != "" {
		e.pgPid = 0 // a server we did not start may not be on this machine: no DB CPU or memory figures
	}
	log.Printf("seeded in %v", time.Since(t0).Round(time.Millisecond))
	if e.authURL, err = withLogin(e.superURL, "authenticator", "bench"); err != nil {
		return err
	}
	if o.bigschema {
		return runBigSchema(ctx, o, e)
	}
	if e.bareURL, err = withLogin(e.superURL, scenario.BareRole, scenario.BarePassword); err != nil {
		return err
	}
	if o.statements {
		if e.stats, err = openStatements(ctx, e.superURL); err != nil {
			return err
		}
		defer e.stats.close()
	}
	if o.large {
		return runLarge(ctx, o, e)
	}
	if o.pgbouncer {
		return runPgBouncer(ctx, o, e)
	}
	if o.batch {
		o.only = "insert-1,batch-10-inserts"
	}
	return runLoad(ctx, o, e)
}

// runLoad measures every scenario on the subject and the reference servers.
func runLoad(ctx context.Context, o options, e *env) error {
	scenarios, err := pick(o.only)
	if err != nil {
		return err
	}
	if o.subject != "pgway" {
		scenarios = slices.DeleteFunc(scenarios, subjectOnly) // pgway's own features
	}
	profiling := o.profileDir != ""
	if profiling {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	// Reference servers.
	built := map[string]string{}
	build := func(pkg string) (string, error) {
		if b, ok := built[pkg]; ok {
			return b, nil
		}
		b := filepath.Join(e.tmp, filepath.Base(pkg))
		if err := goBuild(ctx, e.root, b, pkg); err != nil {
			return "", err
		}
		built[pkg] = b
		return b, nil
	}
	var refs []*server
	defer func() {
		for _, s := range refs {
			s.stop()
		}
	}()
	for _, name := range o.refs {
		s := &server{name: name}
		if s.bin, err = build("./bench/" + name); err != nil {
			return err
		}
		if name == "bare" {
			s.env = []string{"BARE_DB_URI=" + e.bareURL}
		}
		if err := s.start(ctx, e.authURL, o.pool, e.tmp); err != nil {
			return err
		}
		refs = append(refs, s)
	}

	subjectName, subjectPkg, subjectArgs := "pgway", "./cmd/pgway", []string{"serve"}
	// pgway serves its profiles on the admin port when asked to (admin-server-pprof); the references always do.
	var subjectEnv []string
	switch o.subject {
	case "pgway":
		if profiling && slices.Contains(o.profileWho, "pgway") {
			subjectEnv = []string{"PGRST_ADMIN_SERVER_PPROF=true"}
		}
	case "baseline":
		subjectName, subjectPkg, subjectArgs = "baseline#2", "./bench/baseline", nil
	default:
		return fmt.Errorf("-subject: want pgway or baseline, got %q", o.subject)
	}
	subjectBin, err := build(subjectPkg)
	if err != nil {
		return err
	}
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
		s := &server{name: subjectName, bin: subjectBin, args: subjectArgs, env: append(slices.Clone(subjectEnv), sc.Env...)}
		if key != "" {
			s.logName = fmt.Sprintf("%s-%d", subjectName, len(subjects))
		}
		if err := s.start(ctx, e.authURL, o.pool, e.tmp); err != nil {
			return nil, err
		}
		subjects[key] = s
		return s, nil
	}

	// Load.
	names := []string{subjectName}
	for _, r := range refs {
		names = append(names, r.name)
	}
	results := make([][]measurement, len(scenarios))
	diffs := make([][]string, len(scenarios))
	var profiles []string
	for i, sc := range scenarios {
		subject, err := subjectFor(sc)
		if err != nil {
			return err
		}
		group := append([]*server{subject}, refs...)
		if subjectOnly(sc) {
			group = group[:1] // the references have no counterpart (bench/scenario.SubjectOnly)
		}
		diffs[i] = make([]string, len(names))
		for j, r := range group[1:] {
			if diffs[i][j+1] = compare(subject, r, sc, o.rows, o.verbose); diffs[i][j+1] != "" {
				log.Printf("%s: %s and %s answer differently: %s", sc.Name, subject.name, r.name, diffs[i][j+1])
			}
		}
		results[i] = make([]measurement, len(group))
		for round := range max(o.rounds, 1) {
			for k := range group {
				j := (k + round) % len(group) // rotate which server goes first
				if err := ctx.Err(); err != nil {
					return err
				}
				s := group[j]
				m := s.measure(ctx, sc, o, e)
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
		if profiling {
			for j, s := range group {
				role := names[j]
				if j == 0 {
					role = "pgway"
				}
				if !slices.Contains(o.profileWho, role) {
					continue
				}
				files, err := s.profile(ctx, sc, o)
				if err != nil {
					log.Printf("%s: profiling %s: %v", sc.Name, s.name, err)
					continue
				}
				profiles = append(profiles, files...)
			}
		}
	}

	if o.batch {
		section := renderBatch(o, names, scenarios, results, machine(e.pgVersion))
		fmt.Println(section)
		return writeSection(o, e.root, batchHeading, section)
	}
	report := renderLoad(o, names, scenarios, results, diffs, profiles, machine(e.pgVersion))
	fmt.Println(report)
	if err := writeReport(o, e.root, report, ""); err != nil {
		return err
	}
	if section := renderBatch(o, names, scenarios, results, machine(e.pgVersion)); section != "" {
		return writeSection(o, e.root, batchHeading, section)
	}
	return nil
}

// subjectOnly reports whether only the subject serves sc.
func subjectOnly(sc scenario.Scenario) bool {
	for _, s := range scenario.SubjectOnly {
		if s.Name == sc.Name {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func pick(only string) ([]scenario.Scenario, error) {
	if only == "" {
		return append(slices.Clone(scenario.All), scenario.SubjectOnly...), nil
	}
	var out []scenario.Scenario
	for _, name := range strings.Split(only, ",") {
		found := false
		for _, sc := range append(slices.Clone(scenario.All), scenario.SubjectOnly...) {
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

// seed runs the scripts that create the schema and returns PostgreSQL's version string and its postmaster's
// process id (the parent of our backend; 0 when unknown).
func seed(ctx context.Context, superURL string, scripts []string) (string, int, error) {
	c, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return "", 0, fmt.Errorf("connecting to seed: %w", err)
	}
	defer c.Close(ctx)
	for _, sql := range scripts {
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

// withLogin is superURL logged in as role.
func withLogin(superURL, role, password string) (string, error) {
	u, err := url.Parse(superURL)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	u.User = url.UserPassword(role, password)
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
	s.logPath = filepath.Join(logDir, strings.ReplaceAll(name, "#", "")+".log")
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var shown []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "BARE_DB_URI=") {
			shown = append(shown, kv)
		}
	}
	log.Printf("starting %s on :%d (admin :%d) %s", s.name, s.port, s.adminPort, strings.Join(shown, " "))
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
			b, _ := os.ReadFile(s.logPath)
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
			b, _ := os.ReadFile(s.logPath)
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

// pprofURL is the base of the server's /debug/pprof/ endpoints, on its admin port.
func (s *server) pprofURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", s.adminPort)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	_ = s.cmd.Process.Kill()
	s.cmd = nil
}

// measure runs one scenario against s and collects client and server figures for the measured window.
func (s *server) measure(ctx context.Context, sc scenario.Scenario, o options, e *env) measurement {
	pid := s.pid()
	var cpu0, m0, side0 float64
	var db0 dbCPU
	var merr, serr error
	mark := func() {
		if e.stats != nil {
			serr = e.stats.reset(ctx)
		}
		cpu0, _ = cpuSeconds(pid)
		side0 = sideCPU(s.side)
		if e.pgPid > 0 {
			db0 = dbSnapshot(e.pgPid)
		}
		m0, merr = mallocs(s.metricsURL())
	}
	lr := drive("127.0.0.1:"+strconv.Itoa(s.port), sc, o.rows, o.conns, o.warmup, o.duration, mark)
	cpu1, _ := cpuSeconds(pid)
	m := measurement{load: lr, cpu: cpu1 - cpu0, dbCPU: -1, allocs: -1, sideCPU: sideCPU(s.side) - side0}
	if e.pgPid > 0 {
		m.dbCPU = dbSnapshot(e.pgPid).since(db0)
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
	if e.stats != nil {
		if serr == nil {
			m.stmts, serr = e.stats.read(ctx)
		}
		if serr != nil {
			m.stmtsErr = serr.Error()
		}
	}
	return m
}
