package apierr_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/internal/apierr"
)

func TestFromPg(t *testing.T) {
	cases := []struct {
		name          string
		pe            pgconn.PgError
		authenticated bool
		status        int
		code          string
		json          string // expected JSON when set
	}{
		{name: "unique", pe: pgconn.PgError{Code: "23505", Message: "dup"}, status: 409, code: "23505"},
		{name: "fk", pe: pgconn.PgError{Code: "23503"}, status: 409, code: "23503"},
		{name: "not null", pe: pgconn.PgError{Code: "23502"}, status: 400, code: "23502"},
		{name: "anon privilege", pe: pgconn.PgError{Code: "42501"}, status: 401, code: "42501"},
		{name: "user privilege", pe: pgconn.PgError{Code: "42501"}, authenticated: true, status: 403, code: "42501"},
		{name: "read only tx", pe: pgconn.PgError{Code: "25006"}, status: 405, code: "25006"},
		{name: "admin shutdown", pe: pgconn.PgError{Code: "57P01"}, status: 503, code: "57P01"},
		{name: "insufficient resources", pe: pgconn.PgError{Code: "53300"}, status: 503, code: "53300"},
		{name: "undefined function", pe: pgconn.PgError{Code: "42883"}, status: 404, code: "42883"},
		{name: "missing role", pe: pgconn.PgError{Code: "22023", Message: `role "x" does not exist`}, status: 401, code: "22023"},
		{name: "safeupdate", pe: pgconn.PgError{Code: "21000", Message: "DELETE requires a WHERE clause"}, status: 400, code: "21000"},
		{name: "cardinality", pe: pgconn.PgError{Code: "21000", Message: "more than one row returned by a subquery"}, status: 500, code: "21000"},
		{name: "custom status", pe: pgconn.PgError{Code: "PT402", Message: "pay"}, status: 402, code: "PT402"},
		{name: "raise PGRST", pe: pgconn.PgError{Code: "PGRST", Message: `{"code":"123","message":"m","details":"d","hint":"h"}`,
			Detail: `{"status":409,"headers":{"X-A":"b"}}`}, status: 409, code: "123",
			json: `{"code":"123","details":"d","hint":"h","message":"m"}`},
		{name: "raise PGRST malformed", pe: pgconn.PgError{Code: "PGRST", Message: `nope`, Detail: `{}`}, status: 500, code: "PGRST121"},
		{name: "PT with a bad status", pe: pgconn.PgError{Code: "PT40A", Message: "Wrong"}, status: 500, code: "PT40A"},
		{name: "raise PGRST without detail", pe: pgconn.PgError{Code: "PGRST", Message: `{"code":"1","message":"m"}`}, status: 500, code: "PGRST121"},
		{name: "raise default", pe: pgconn.PgError{Code: "P0001", Message: "boom"}, status: 400, code: "P0001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pe := tc.pe
			e := apierr.FromPg(&pe, tc.authenticated)
			if e.Status != tc.status || e.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", e.Status, e.Code, tc.status, tc.code)
			}
			if tc.json != "" && string(e.JSON()) != tc.json {
				t.Fatalf("json %s, want %s", e.JSON(), tc.json)
			}
		})
	}
}
