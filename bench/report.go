package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pgway/pgway/bench/scenario"
)

// machine describes where the numbers were measured.
func machine(pgVersion string) string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("nproc %d, CPU %s, %s %s/%s, PostgreSQL %s", runtime.NumCPU(), model, runtime.Version(),
		runtime.GOOS, runtime.GOARCH, pgVersion)
}

// loadAvg is /proc/loadavg's 1-minute figure: other work on the machine shows up here and in the noise.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// largeHeading starts -large's section of the report file; the scenario run keeps it when it rewrites the rest,
// and -large replaces only it.
const largeHeading = "## Large reads"

// sections are the report file's sections written by a mode of their own (-large, -batch, -pgbouncer,
// -bigschema), in file order; the scenario table is everything before the first of them.
var sections = []string{largeHeading, batchHeading, pgbouncerHeading, bigHeading}

// writeReport writes report to -out: with heading "" (the scenario run) it replaces everything before the first
// mode section; with a section heading it replaces that section, keeping the rest.
func writeReport(o options, root, report, heading string) error {
	if o.out == "" {
		return nil
	}
	path := o.out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	out := mergeReport(string(old), report, heading)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s", path)
	return nil
}

// mergeReport puts report into the file text old as the part heading names ("" for the scenario table).
func mergeReport(old, report, heading string) string {
	parts := map[string]string{}
	head := old
	type cut struct {
		at      int
		heading string
	}
	var cuts []cut
	for _, h := range sections {
		if i := strings.Index("\n"+old, "\n"+h+"\n"); i >= 0 {
			cuts = append(cuts, cut{i, h})
		}
	}
	slices.SortFunc(cuts, func(a, b cut) int { return a.at - b.at })
	if len(cuts) > 0 {
		head = old[:cuts[0].at]
	}
	for i, c := range cuts {
		end := len(old)
		if i+1 < len(cuts) {
			end = cuts[i+1].at
		}
		parts[c.heading] = strings.TrimRight(old[c.at:end], "\n") + "\n"
	}
	if heading == "" {
		head = report
	} else {
		parts[heading] = strings.TrimRight(report, "\n") + "\n"
		if strings.TrimSpace(head) == "" {
			head = "# pgway load benchmark\n"
		}
	}
	out := strings.TrimRight(head, "\n") + "\n"
	for _, h := range sections {
		if p, ok := parts[h]; ok {
			out += "\n" + p
		}
	}
	return out
}

// refLabel describes a reference server for the report.
var refLabel = map[string]string{
	"baseline": "`baseline` (bench/baseline: fasthttp + pgxpool, pgway's settings statement and SQL, no parsing or planning)",
	"bare": "`bare` (bench/bare: fasthttp + pgxpool, one plain statement per request with pgx's defaults, no role switch, " +
		"request GUCs or transaction settings; same body)",
}

// renderLoad is the markdown report: per scenario, one row per server and one subject/reference ratio row per
// reference; then the targets, and with -statements the pg_stat_statements table.
func renderLoad(o options, names []string, scs []scenario.Scenario, res [][]measurement, diffs [][]string,
	profiles []string, mach string) string {
	subject := names[0]
	var b strings.Builder
	fmt.Fprintf(&b, "# pgway load benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s; 1-min load average %s before, %s after the run (includes this run's own load)\n",
		mach, o.loadBefore, loadAvg())
	mode := "full"
	if o.quick {
		mode = "quick (smoke run, not for comparison)"
	}
	fmt.Fprintf(&b, "- run: %s; %d rows; %d keep-alive connections; %d × %v measured, each after %v warm-up, per scenario and server "+
		"(servers take turns, the first one rotating); db-pool %d for every server\n",
		mode, o.rows, o.conns, max(o.rounds, 1), o.duration, o.warmup, o.pool)
	var refs []string
	for _, n := range names[1:] {
		refs = append(refs, refLabel[n])
	}
	fmt.Fprintf(&b, "- servers: `%s` vs %s; PostgreSQL, servers and load generator share the machine over loopback\n",
		subject, strings.Join(refs, " and "))
	if o.profileDir != "" && slices.Contains(o.profileWho, "pgway") && subject == "pgway" {
		fmt.Fprintf(&b, "- pgway runs with admin-server-pprof on in this run (-profile): profiles come from its admin port\n")
	}
	if o.statements {
		fmt.Fprintf(&b, "- pg_stat_statements loaded with track_planning on (-statements); it costs PostgreSQL some CPU\n")
	}
	fmt.Fprintf(&b, "- columns: CPU and DB CPU are seconds per 1,000 requests (server process; PostgreSQL postmaster and backends), "+
		"allocs are Go heap allocations per request (`go_memstats_mallocs_total` delta, scrape cost subtracted), "+
		"KB/resp the response body as sent (compressed when it was); "+
		"ratio rows are %s / reference (for req/s higher is better, for the rest lower is better)\n\n", subject)
	b.WriteString("| scenario | server | req/s | p50 ms | p99 ms | CPU s/1k | DB CPU s/1k | allocs/req | KB/resp | errors |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, sc := range scs {
		for j, m := range res[i] {
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.3f | %.3f | %s | %s | %s | %s | %d |\n", sc.Name, names[j], m.rps(),
				ms(m.load.P50), ms(m.load.P99), num(m.per1k(m.cpu), 3), num(m.per1k(m.dbCPU), 3), num(m.allocsPerReq(), 1),
				num(m.kbPerResp(), 1), m.load.Errors)
		}
		s := res[i][0]
		for j := 1; j < len(res[i]); j++ {
			r := res[i][j]
			fmt.Fprintf(&b, "| %s | **/%s** | %s | %s | %s | %s | %s | %s | %s | |\n", sc.Name, names[j],
				ratio(s.rps(), r.rps()), ratio(ms(s.load.P50), ms(r.load.P50)), ratio(ms(s.load.P99), ms(r.load.P99)),
				ratio(s.per1k(s.cpu), r.per1k(r.cpu)), ratio(s.per1k(s.dbCPU), r.per1k(r.dbCPU)),
				ratio(s.allocsPerReq(), r.allocsPerReq()), ratio(s.kbPerResp(), r.kbPerResp()))
		}
	}
	b.WriteString(renderCompressed(names, scs, res))
	b.WriteString(renderTargets(names, scs, res))
	if o.statements {
		b.WriteString(renderStatements(names, scs, res))
	}
	var notes []string
	for i, sc := range scs {
		for j := 1; j < len(names); j++ {
			if diffs[i][j] != "" {
				notes = append(notes, fmt.Sprintf("%s: %s and %s answer differently: %s", sc.Name, subject, names[j], diffs[i][j]))
			}
		}
		for j, m := range res[i] {
			if m.load.FirstErr != "" {
				notes = append(notes, fmt.Sprintf("%s on %s: %d errors, first: %s", sc.Name, names[j], m.load.Errors, m.load.FirstErr))
			}
			if m.allocsErr != "" {
				notes = append(notes, fmt.Sprintf("%s on %s: allocations unknown: %s", sc.Name, names[j], m.allocsErr))
			}
			if m.stmtsErr != "" {
				notes = append(notes, fmt.Sprintf("%s on %s: pg_stat_statements unknown: %s", sc.Name, names[j], m.stmtsErr))
			}
		}
	}
	if len(profiles) > 0 {
		notes = append(notes, fmt.Sprintf("-profile: %d files in %s (SCENARIO.SERVER.{cpu,allocs}.pprof from one extra unmeasured "+
			"window each, and their `go tool pprof -top` as .top.txt)", len(profiles), o.profileDir))
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// compressedScenarios pair a scenario that asks for a compressed body with the same request uncompressed.
var compressedScenarios = map[string]string{"page-1000-gzip": "page-1000"}

// renderCompressed compares each compressed scenario with its uncompressed twin, per server: bytes sent, req/s,
// CPU and allocations.
func renderCompressed(names []string, scs []scenario.Scenario, res [][]measurement) string {
	var rows []string
	for i, sc := range scs {
		twin, ok := compressedScenarios[sc.Name]
		if !ok {
			continue
		}
		k := slices.IndexFunc(scs, func(s scenario.Scenario) bool { return s.Name == twin })
		if k < 0 {
			continue
		}
		for j, n := range names {
			c, u := res[i][j], res[k][j]
			rows = append(rows, fmt.Sprintf("| %s / %s | %s | %s | %s | %s | %s | %s |", sc.Name, twin, n,
				ratio(c.kbPerResp(), u.kbPerResp()), ratio(c.rps(), u.rps()), ratio(ms(c.load.P50), ms(u.load.P50)),
				ratio(c.per1k(c.cpu), u.per1k(u.cpu)), ratio(c.allocsPerReq(), u.allocsPerReq())))
		}
	}
	if len(rows) == 0 {
		return ""
	}
	return "\nCompressed against uncompressed (the same request with and without `Accept-Encoding`; over loopback, " +
		"where bandwidth costs nothing, so this is compression's CPU price, not its benefit on a network):\n\n" +
		"| scenarios | server | bytes | req/s | p50 | CPU/req | allocs/req |\n|---|---|---:|---:|---:|---:|---:|\n" +
		strings.Join(rows, "\n") + "\n"
}

// targetScenarios are issue #14's: pgway at ≥ 0.85× the bare handler's req/s with at most 10% more allocations.
var targetScenarios = []string{"by-id", "filter-order-25"}

func renderTargets(names []string, scs []scenario.Scenario, res [][]measurement) string {
	bare := slices.Index(names, "bare")
	if bare < 0 {
		return ""
	}
	var rows []string
	for i, sc := range scs {
		if !slices.Contains(targetScenarios, sc.Name) {
			continue
		}
		s, r := res[i][0], res[i][bare]
		check := func(v float64, ok bool) string {
			if v < 0 {
				return "n/a"
			}
			if ok {
				return fmt.Sprintf("%.2f× ✓", v)
			}
			return fmt.Sprintf("%.2f× ✗", v)
		}
		rps := -1.0
		if r.rps() > 0 {
			rps = s.rps() / r.rps()
		}
		al := -1.0
		if s.allocsPerReq() >= 0 && r.allocsPerReq() > 0 {
			al = s.allocsPerReq() / r.allocsPerReq()
		}
		cpu, db := -1.0, -1.0
		if r.per1k(r.cpu) > 0 {
			cpu = s.per1k(s.cpu) / r.per1k(r.cpu)
		}
		if s.per1k(s.dbCPU) >= 0 && r.per1k(r.dbCPU) > 0 {
			db = s.per1k(s.dbCPU) / r.per1k(r.dbCPU)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", sc.Name, check(rps, rps >= 0.85), check(al, al <= 1.10),
			num(cpu, 2)+"×", num(db, 2)+"×"))
	}
	if len(rows) == 0 {
		return ""
	}
	return fmt.Sprintf("\nTargets against the bare handler (issue #14: req/s ≥ 0.85×, allocations ≤ 1.10×; the issue's starting point was "+
		"0.65–0.69× req/s, ~1.5× CPU and ~1.45× DB CPU per request):\n\n"+
		"| scenario | %s/bare req/s | %s/bare allocs | %s/bare CPU | %s/bare DB CPU |\n|---|---:|---:|---:|---:|\n%s\n",
		names[0], names[0], names[0], names[0], strings.Join(rows, "\n"))
}

// renderStatements is the pg_stat_statements table: per scenario and server, statements per request, planning
// and execution time per request, and the main statement's plans per call (generic or custom plan).
func renderStatements(names []string, scs []scenario.Scenario, res [][]measurement) string {
	var b strings.Builder
	b.WriteString("\nStatements (pg_stat_statements over the measured windows, reset before each; `settings` is the per-request " +
		"set_config statement, `main` the most-called other one; a prepared statement planned on (almost) no call runs " +
		"PostgreSQL's cached generic plan, one planned on every call a custom plan):\n\n")
	b.WriteString("| scenario | server | stmts/req | plan ms/req | exec ms/req | main plans/call | main plan | main plan ms/call | main exec ms/call | settings exec ms/call | other statements |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|\n")
	for i, sc := range scs {
		for j, m := range res[i] {
			sum := summarize(m)
			if !sum.ok {
				fmt.Fprintf(&b, "| %s | %s | n/a | | | | | | | | |\n", sc.Name, names[j])
				continue
			}
			var others []string
			for _, st := range sum.others {
				if float64(st.calls)/float64(m.load.Requests) < 0.01 {
					continue
				}
				q := strings.Join(strings.Fields(st.query), " ")
				if len(q) > 60 {
					q = q[:60] + "…"
				}
				others = append(others, fmt.Sprintf("`%s` %.2f/req", strings.ReplaceAll(q, "|", `\|`), float64(st.calls)/float64(m.load.Requests)))
			}
			settings := "—"
			if sum.settings.calls > 0 {
				settings = num(perCall(sum.settings.execMs, sum.settings.calls), 4)
			}
			kind := "—"
			if sum.main.calls > 0 {
				kind = planKind(sum.mainPlansPerCall)
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f | %.4f | %.4f | %.3f | %s | %s | %s | %s | %s |\n", sc.Name, names[j], sum.perReq,
				sum.planMs, sum.execMs, sum.mainPlansPerCall, kind, num(perCall(sum.main.planMs, sum.main.calls), 4),
				num(perCall(sum.main.execMs, sum.main.calls), 4), settings, strings.Join(others, "; "))
		}
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func num(v float64, prec int) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func ratio(a, b float64) string {
	if a < 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// batchHeading starts the atomic batch section of the report (bench -batch, or a run with batch-10-inserts).
const batchHeading = "## Atomic batches"

// writeSection writes section, which starts with heading, to -out in place of that section (the others kept).
func writeSection(o options, root, heading, section string) error {
	return writeReport(o, root, section, heading)
}

// renderBatch is the atomic batch section: per server, the time and throughput of N inserts as N requests of the
// per-operation scenario, and on pgway as one batch of N; "" without a batch scenario in the run.
func renderBatch(o options, names []string, scs []scenario.Scenario, res [][]measurement, mach string) string {
	var b strings.Builder
	for i, sc := range scs {
		if sc.Ops <= 1 || sc.Per == "" {
			continue
		}
		per := slices.IndexFunc(scs, func(s scenario.Scenario) bool { return s.Name == sc.Per })
		if per < 0 {
			continue
		}
		n := float64(sc.Ops)
		if b.Len() == 0 {
			fmt.Fprintf(&b, "%s\n\n", batchHeading)
			fmt.Fprintf(&b, "- date: %s; machine: %s; 1-min load average %s before, %s after\n",
				time.Now().UTC().Format("2006-01-02 15:04 MST"), mach, o.loadBefore, loadAvg())
			fmt.Fprintf(&b, "- %d keep-alive connections, %d × %v measured after %v warm-up per server; db-pool %d; %d rows\n",
				o.conns, max(o.rounds, 1), o.duration, o.warmup, o.pool, o.rows)
			b.WriteString("- time per N inserts: one request's p50 × N for separate requests (each waits for the one before, " +
				"as a client inserting N rows one request at a time does), the batch's p50 for one batch; inserts/s is the " +
				"throughput of the whole run; CPU and DB CPU are seconds per 1,000 inserts\n\n")
			b.WriteString("| inserts | server | how | requests/s | inserts/s | ms per N inserts (p50) | p99 ms per request | CPU s/1k inserts | DB CPU s/1k inserts |\n")
			b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|\n")
		}
		row := func(server, how string, m measurement, ops float64) {
			perIns := func(v float64) string {
				if v < 0 || m.load.Requests == 0 {
					return "n/a"
				}
				return num(v/(float64(m.load.Requests)*ops)*1000, 3)
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %.0f | %.0f | %.3f | %.3f | %s | %s |\n", sc.Ops, server, how, m.rps(), m.rps()*ops,
				ms(m.load.P50)*n/ops, ms(m.load.P99), perIns(m.cpu), perIns(m.dbCPU))
		}
		for j, m := range res[per] {
			row(names[j], fmt.Sprintf("%d × `%s`", sc.Ops, sc.Per), m, 1)
		}
		batch := res[i][0]
		row(names[0], "1 batch (`"+sc.Name+"`)", batch, n)
		single := res[per][0]
		if single.load.P50 > 0 && batch.load.P50 > 0 && single.rps() > 0 {
			fmt.Fprintf(&b, "\nRatio, %s batch / %d %s requests: time per %d inserts %.2f× (%.1f× faster), inserts/s %.2f×.\n",
				names[0], sc.Ops, sc.Per, sc.Ops, ms(batch.load.P50)/(ms(single.load.P50)*n), ms(single.load.P50)*n/ms(batch.load.P50),
				batch.rps()*n/single.rps())
		}
	}
	return b.String()
}
