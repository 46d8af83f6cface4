package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// statements reads pg_stat_statements over a superuser connection of its own (-statements).
type statements struct {
	conn *pgx.Conn
}

// stmtStat is one pg_stat_statements entry over a measured window (or the sum over several).
type stmtStat struct {
	query  string // as pg_stat_statements normalised it
	calls  int64
	plans  int64   // times planned: a custom plan (or a generic plan being built) counts, a cached generic plan does not
	planMs float64 // total planning time
	execMs float64 // total execution time
	rows   int64
}

func openStatements(ctx context.Context, superURL string) (*statements, error) {
	c, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		c.Close(ctx)
		return nil, fmt.Errorf("-statements: %w", err)
	}
	var track string
	if err := c.QueryRow(ctx, "SELECT current_setting('pg_stat_statements.track_planning')").Scan(&track); err != nil {
		c.Close(ctx)
		return nil, fmt.Errorf("-statements: pg_stat_statements is not loaded (shared_preload_libraries): %w", err)
	}
	if track != "on" {
		c.Close(ctx)
		return nil, fmt.Errorf("-statements: pg_stat_statements.track_planning is %s: planning counts need it on", track)
	}
	return &statements{conn: c}, nil
}

func (s *statements) close() { s.conn.Close(context.Background()) }

func (s *statements) reset(ctx context.Context) error {
	_, err := s.conn.Exec(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// read returns the entries since the last reset, leaving out this connection's own (the superuser's).
func (s *statements) read(ctx context.Context) ([]stmtStat, error) {
	rows, err := s.conn.Query(ctx, `SELECT query, calls, plans, total_plan_time, total_exec_time, rows
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)`)
	if err != nil {
		return nil, err
	}
	var out []stmtStat
	for rows.Next() {
		var st stmtStat
		if err := rows.Scan(&st.query, &st.calls, &st.plans, &st.planMs, &st.execMs, &st.rows); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return mergeStmts(nil, out), rows.Err()
}

// mergeStmts adds b's entries to a's by query text (the same text under another role is one statement here).
func mergeStmts(a, b []stmtStat) []stmtStat {
	for _, st := range b {
		i := slices.IndexFunc(a, func(x stmtStat) bool { return x.query == st.query })
		if i < 0 {
			a = append(a, st)
			continue
		}
		a[i].calls += st.calls
		a[i].plans += st.plans
		a[i].planMs += st.planMs
		a[i].execMs += st.execMs
		a[i].rows += st.rows
	}
	return a
}

// isSettings tells pgway's (and the baseline's) per-request settings statement.
func isSettings(query string) bool { return strings.HasPrefix(query, "SELECT set_config(") }

// stmtSummary is what the report shows of one server's statements in one scenario.
type stmtSummary struct {
	ok               bool
	perReq           float64 // statements executed per request
	planMs, execMs   float64 // per request, all statements
	main             stmtStat
	settings         stmtStat // zero calls when there is none
	others           []stmtStat
	mainPlansPerCall float64
}

// summarize splits the statements into the settings statement, the main statement (the most-called other one)
// and the rest.
func summarize(m measurement) stmtSummary {
	var sum stmtSummary
	if m.stmts == nil || m.load.Requests == 0 {
		return sum
	}
	// Entries of the measured window include requests that were in flight when it ended; scale by calls
	// rather than by requests where it matters (per call figures).
	req := float64(m.load.Requests)
	sum.ok = true
	var calls int64
	for _, st := range m.stmts {
		calls += st.calls
		sum.planMs += st.planMs
		sum.execMs += st.execMs
		switch {
		case isSettings(st.query):
			sum.settings.calls += st.calls
			sum.settings.plans += st.plans
			sum.settings.planMs += st.planMs
			sum.settings.execMs += st.execMs
		case st.calls > sum.main.calls:
			if sum.main.calls > 0 {
				sum.others = append(sum.others, sum.main)
			}
			sum.main = st
		default:
			sum.others = append(sum.others, st)
		}
	}
	sum.perReq = float64(calls) / req
	sum.planMs /= req
	sum.execMs /= req
	if sum.main.calls > 0 {
		sum.mainPlansPerCall = float64(sum.main.plans) / float64(sum.main.calls)
	}
	slices.SortFunc(sum.others, func(a, b stmtStat) int { return int(b.calls - a.calls) })
	return sum
}

// planKind reads plans per call: a prepared statement planned on every call runs custom plans, one planned
// (almost) never runs PostgreSQL's cached generic plan.
func planKind(plansPerCall float64) string {
	switch {
	case plansPerCall < 0.05:
		return "generic"
	case plansPerCall > 0.95:
		return "custom"
	default:
		return "mixed"
	}
}

func perCall(total float64, calls int64) float64 {
	if calls == 0 {
		return -1
	}
	return total / float64(calls)
}
