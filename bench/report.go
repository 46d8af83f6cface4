package main

import (
	"fmt"
	"os"
	"runtime"
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

// render is the markdown report: per scenario, one row per server and one pgway/baseline ratio row.
func render(o options, subject string, scs []scenario.Scenario, res [][2]measurement, diffs []string, mach string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# pgway load benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- machine: %s; 1-min load average %s before, %s after the run (includes this run's own load)\n",
		mach, o.loadBefore, loadAvg())
	mode := "full"
	if o.quick {
		mode = "quick (smoke run, not for comparison)"
	}
	fmt.Fprintf(&b, "- run: %s; %d rows; %d keep-alive connections; %d × %v measured, each after %v warm-up, per scenario and server; db-pool %d\n",
		mode, o.rows, o.conns, max(o.rounds, 1), o.duration, o.warmup, o.pool)
	fmt.Fprintf(&b, "- servers: `%s` vs `baseline` (bench/baseline: fasthttp + pgxpool, same settings and SQL, no parsing or planning); "+
		"PostgreSQL, servers and load generator share the machine over loopback\n", subject)
	fmt.Fprintf(&b, "- columns: CPU and DB CPU are seconds per 1,000 requests (server process; PostgreSQL postmaster and backends), "+
		"allocs are Go heap allocations per request (`go_memstats_mallocs_total` delta, scrape cost subtracted); "+
		"ratio is %s / baseline (for req/s higher is better, for the rest lower is better)\n\n", subject)
	b.WriteString("| scenario | server | req/s | p50 ms | p99 ms | CPU s/1k | DB CPU s/1k | allocs/req | errors |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, sc := range scs {
		s, base := res[i][0], res[i][1]
		row := func(name string, m measurement) {
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.3f | %.3f | %s | %s | %s | %d |\n", sc.Name, name, m.rps(),
				ms(m.load.P50), ms(m.load.P99), num(m.per1k(m.cpu), 3), num(m.per1k(m.dbCPU), 3), num(m.allocsPerReq(), 1), m.load.Errors)
		}
		row(subject, s)
		row("baseline", base)
		fmt.Fprintf(&b, "| %s | **ratio** | %s | %s | %s | %s | %s | %s | |\n", sc.Name,
			ratio(s.rps(), base.rps()), ratio(ms(s.load.P50), ms(base.load.P50)), ratio(ms(s.load.P99), ms(base.load.P99)),
			ratio(s.per1k(s.cpu), base.per1k(base.cpu)), ratio(s.per1k(s.dbCPU), base.per1k(base.dbCPU)),
			ratio(s.allocsPerReq(), base.allocsPerReq()))
	}
	var notes []string
	for i, sc := range scs {
		if diffs[i] != "" {
			notes = append(notes, fmt.Sprintf("%s: %s and baseline answer differently: %s", sc.Name, subject, diffs[i]))
		}
		for j, m := range res[i] {
			name := []string{subject, "baseline"}[j]
			if m.load.FirstErr != "" {
				notes = append(notes, fmt.Sprintf("%s on %s: %d errors, first: %s", sc.Name, name, m.load.Errors, m.load.FirstErr))
			}
			if m.allocsErr != "" {
				notes = append(notes, fmt.Sprintf("%s on %s: allocations unknown: %s", sc.Name, name, m.allocsErr))
			}
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
