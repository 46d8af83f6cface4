package dbexec

import (
	"strings"
	"testing"
)

// TestSettingsOrder: the statement timeout comes first, then the role's (and hoisted function) settings, then the
// request GUCs, then app.settings and the time zone; every value is a bind parameter numbered in that order.
func TestSettingsOrder(t *testing.T) {
	base := Tx{Role: "anon", SearchPath: `"api"`, Method: "GET", Path: "/x"}
	for _, tc := range []struct {
		name string
		tx   func(Tx) Tx
		sql  []string // the set_config items in order, as they must appear
		args []string // the arguments from $8 on
	}{
		{name: "no timeout", tx: func(t Tx) Tx { return t },
			sql: []string{"set_config('search_path', $1, true)"}},
		{name: "timeout", tx: func(t Tx) Tx { t.statementTimeout = "30000"; return t },
			sql:  []string{"SELECT set_config('statement_timeout', $8, true), set_config('search_path', $1, true)"},
			args: []string{"30000"}},
		{name: "timeout read-only", tx: func(t Tx) Tx { t.statementTimeout = "30000"; t.ReadOnly = true; return t },
			sql: []string{"SELECT set_config('statement_timeout', $8, true), set_config('search_path', $1, true)",
				"set_config('transaction_read_only', 'on', true)"},
			args: []string{"30000"}},
		{name: "role settings override the timeout",
			tx: func(t Tx) Tx {
				t.statementTimeout = "30000"
				t.RoleSettings = [][2]string{{"statement_timeout", "5s"}, {"statement_timeout", "1s"}}
				return t
			},
			sql: []string{"SELECT set_config('statement_timeout', $8, true), set_config($9, $10, true), " +
				"set_config($11, $12, true), set_config('search_path', $1, true)"},
			args: []string{"30000", "statement_timeout", "5s", "statement_timeout", "1s"}},
		{name: "role settings without timeout",
			tx:   func(t Tx) Tx { t.RoleSettings = [][2]string{{"work_mem", "8MB"}}; return t },
			sql:  []string{"SELECT set_config($8, $9, true), set_config('search_path', $1, true)"},
			args: []string{"work_mem", "8MB"}},
		{name: "timeout, app settings and time zone",
			tx: func(t Tx) Tx {
				t.statementTimeout = "250"
				t.appSettings = [][2]string{{"k", "v"}}
				t.Timezone = "UTC"
				return t
			},
			sql: []string{"SELECT set_config('statement_timeout', $8, true), set_config('search_path', $1, true)",
				"set_config('request.cookies', $7, true), set_config($9, $10, true), set_config($11, $12, true)"},
			args: []string{"250", "app.settings.k", "v", "timezone", "UTC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx := tc.tx(base)
			sql, vals := tx.settings(nil)
			at := 0
			for _, part := range tc.sql {
				i := strings.Index(sql[at:], part)
				if i < 0 {
					t.Fatalf("%s\ndoes not contain, in order, %q", sql, part)
				}
				at += i + len(part)
			}
			if strings.Count(sql, "$") != len(vals) {
				t.Fatalf("%d parameters for %d values: %s", strings.Count(sql, "$"), len(vals), sql)
			}
			var got []string
			for _, v := range vals[7:] {
				got = append(got, string(v))
			}
			if strings.Join(got, "|") != strings.Join(tc.args, "|") {
				t.Fatalf("arguments from $8: %q, want %q", got, tc.args)
			}
		})
	}
}
