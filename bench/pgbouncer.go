package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/pgway/pgway/bench/scenario"
	"github.com/pgway/pgway/internal/pgtest"
)

// pgbouncerHeading starts -pgbouncer's section of the report file; the other modes keep it.
const pgbouncerHeading = "## PgBouncer"

// bouncerVariant is one way of running pgway in -pgbouncer mode.
type bouncerVariant struct {
	name, label string
	env         func(bouncerURL, directURL string) []string
}

var bouncerVariants = []bouncerVariant{
	{"direct", "pgway → PostgreSQL, prepared statements (the default)", func(string, string) []string { return nil }},
	{"direct-unprepared", "pgway → PostgreSQL, `db-prepared-statements = false`", func(string, string) []string {
		return []string{"PGRST_DB_PREPARED_STATEMENTS=false"}
	}},
	{"pgbouncer", "pgway → PgBouncer (transaction pooling) → PostgreSQL, `db-prepared-statements = false`",
		func(bouncer, direct string) []string {
			return []string{"PGRST_DB_URI=" + bouncer, "PGRST_DB_PREPARED_STATEMENTS=false", "PGRST_DB_LISTENER_URI=" + direct}
		}},
}

// runPgBouncer measures the scenarios on pgway through PgBouncer in transaction mode (db-prepared-statements =
// false, as it needs) against pgway connected directly, with and without prepared statements (the difference
// between those two is the cost of unnamed statements, the rest PgBouncer's hop), and writes the "PgBouncer"
// section of the report.
func runPgBouncer(ctx context.Context, o options, e *env) error {
	scenarios, err := pick(o.only)
	if err != nil {
		return err
	}
	pg, err := pgtest.Existing(e.superURL)
	if err != nil {
		return err
	}
	bouncer, err := pg.StartPgBouncer(ctx, pgtest.PgBouncerOptions{PoolSize: o.pool})
	if err != nil {
		return err
	}
	defer bouncer.Stop()
	log.Printf("PgBouncer %s, transaction pooling, default_pool_size %d", bouncer.Version(), o.pool)
	dbName := strings.TrimPrefix(mustParse(e.authURL).Path, "/")
	bouncerURL := bouncer.URLAs(dbName, "authenticator", "bench")

	bin := filepath.Join(e.tmp, "pgway")
	if err := goBuild(ctx, e.root, bin, "./cmd/pgway"); err != nil {
		return err
	}
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	serverFor := func(v bouncerVariant, sc scenario.Scenario) (*server, error) {
		key := v.name + "\n" + strings.Join(sc.Env, "\n")
		if s := servers[key]; s != nil {
			return s, nil
		}
		s := &server{name: "pgway-" + v.name, bin: bin, args: []string{"serve"},
			env: append(v.env(bouncerURL, e.authURL), sc.Env...), logName: fmt.Sprintf("pgway-%s-%d", v.name, len(servers))}
		if v.name == "pgbouncer" {
			s.side = []int{bouncer.Pid()}
		}
		if err := s.start(ctx, e.authURL, o.pool, e.tmp); err != nil {
			return nil, err
		}
		servers[key] = s
		return s, nil
	}
	results := make([][]measurement, len(scenarios))
	for i, sc := range scenarios {
		group := make([]*server, len(bouncerVariants))
		for j, v := range bouncerVariants {
			if group[j], err = serverFor(v, sc); err != nil {
				return err
			}
		}
		for j, r := range group[1:] {
			if d := compare(group[0], r, sc, o.rows, o.verbose); d != "" {
				return fmt.Errorf("%s: %s and %s answer differently: %s", sc.Name, group[0].name, group[j+1].name, d)
			}
		}
		results[i] = make([]measurement, len(group))
		for round := range max(o.rounds, 1) {
			for k := range group {
				j := (k + round) % len(group)
				if err := ctx.Err(); err != nil {
					return err
				}
				m := group[j].measure(ctx, sc, o, e)
				log.Printf("%-16s %-22s %8.0f req/s  p50 %-9v p99 %-9v errors %d %s", sc.Name, group[j].name, m.rps(),
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
	report := renderPgBouncer(o, bouncer.Version(), scenarios, results, machine(e.pgVersion))
	fmt.Println(report)
	return writeSection(o, e.root, pgbouncerHeading, report)
}

func mustParse(u string) *url.URL {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p
}

// renderPgBouncer is -pgbouncer's report section: per scenario one row per variant and the ratios of PgBouncer's
// to the direct ones, then their geometric means over the scenarios.
func renderPgBouncer(o options, version string, scs []scenario.Scenario, res [][]measurement, mach string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", pgbouncerHeading)
	fmt.Fprintf(&b, "`go run ./bench -pgbouncer` (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	mode := "full"
	if o.quick {
		mode = "quick (smoke run, not for comparison)"
	}
	fmt.Fprintf(&b, "- machine: %s; 1-min load average %s before, %s after the run\n", mach, o.loadBefore, loadAvg())
	fmt.Fprintf(&b, "- run: %s; %d rows; %d keep-alive connections; %d × %v measured after %v warm-up, per scenario and "+
		"variant (taking turns); db-pool %d; PgBouncer %s with pool_mode = transaction, default_pool_size %d\n",
		mode, o.rows, o.conns, max(o.rounds, 1), o.duration, o.warmup, o.pool, version, o.pool)
	b.WriteString("- variants: ")
	for i, v := range bouncerVariants {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "`%s`: %s", v.name, v.label)
	}
	b.WriteString("\n- columns: CPU is pgway's, PgBouncer CPU PgBouncer's, DB CPU PostgreSQL's, in seconds per 1,000 requests; " +
		"ratio rows are `pgbouncer` / the other (req/s: higher is better)\n\n")
	b.WriteString("| scenario | variant | req/s | p50 ms | p99 ms | CPU s/1k | PgBouncer CPU s/1k | DB CPU s/1k | errors |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	bi := len(bouncerVariants) - 1
	logSum := make([]float64, bi)
	for i, sc := range scs {
		for j, m := range res[i] {
			side := "–"
			if j == bi {
				side = num(m.per1k(m.sideCPU), 3)
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.3f | %.3f | %s | %s | %s | %d |\n", sc.Name, bouncerVariants[j].name, m.rps(),
				ms(m.load.P50), ms(m.load.P99), num(m.per1k(m.cpu), 3), side, num(m.per1k(m.dbCPU), 3), m.load.Errors)
		}
		p := res[i][bi]
		for j := range bi {
			r := res[i][j]
			fmt.Fprintf(&b, "| %s | **pgbouncer / %s** | %s | %s | %s | %s | | %s | |\n", sc.Name, bouncerVariants[j].name,
				ratio(p.rps(), r.rps()), ratio(ms(p.load.P50), ms(r.load.P50)), ratio(ms(p.load.P99), ms(r.load.P99)),
				ratio(p.per1k(p.cpu), r.per1k(r.cpu)), ratio(p.per1k(p.dbCPU), r.per1k(r.dbCPU)))
			if r.rps() > 0 && p.rps() > 0 {
				logSum[j] += math.Log(p.rps() / r.rps())
			}
		}
	}
	b.WriteString("\nThroughput through PgBouncer, geometric mean over the scenarios: ")
	for j := range bi {
		if j > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.2f× `%s`", math.Exp(logSum[j]/float64(max(len(scs), 1))), bouncerVariants[j].name)
	}
	b.WriteString(".\n")
	return b.String()
}

// sideCPU is the CPU seconds of the processes a server relies on besides itself (PgBouncer).
func sideCPU(pids []int) float64 {
	total := 0.0
	for _, p := range pids {
		if s, err := cpuSeconds(p); err == nil {
			total += s
		}
	}
	return total
}
