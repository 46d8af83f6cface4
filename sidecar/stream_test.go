package sidecar_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/config"
)

// streamFixture is a table big enough to outgrow a small response buffer, and a function returning its rows.
const streamFixture = `
CREATE TABLE api.big (id int PRIMARY KEY, label text NOT NULL, note text);
INSERT INTO api.big SELECT g, 'row ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('x', g % 50) END
  FROM generate_series(1, 20000) g;
GRANT SELECT ON api.big TO web_anon, web_user;
CREATE FUNCTION api.big_rows(lo int) RETURNS SETOF api.big LANGUAGE sql STABLE AS $$ SELECT * FROM api.big WHERE id >= lo $$;
CREATE FUNCTION api.set_header_big() RETURNS SETOF api.big LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM set_config('response.headers', '[{"X-From-Function":"yes"}]', true);
  RETURN QUERY SELECT * FROM api.big;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api TO web_anon, web_user;
`

// TestStreamedReads: past server-response-buffer-size a read streams its rows; the body is the same as the
// buffered one, and the head says what is known before the rows end.
func TestStreamedReads(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ResponseBufferBytes = 4096 }, fixture(t), streamFixture)
	type row struct {
		ID    int     `json:"id"`
		Label string  `json:"label"`
		Note  *string `json:"note"`
	}
	t.Run("JSON array", func(t *testing.T) {
		res := ts.get("/big?order=id")
		if res.Status != 200 {
			t.Fatalf("status %d: %.300s", res.Status, res.Body)
		}
		var rows []row
		if err := json.Unmarshal([]byte(res.Body), &rows); err != nil {
			t.Fatalf("not a JSON array: %v (%d bytes, ends %q)", err, len(res.Body), res.Body[max(0, len(res.Body)-40):])
		}
		if len(rows) != 20000 || rows[0].ID != 1 || rows[19999].ID != 20000 || rows[2].Note != nil {
			t.Fatalf("got %d rows, first %+v", len(rows), rows[0])
		}
		if got := res.Header.Get("Content-Range"); got != "" {
			t.Errorf("Content-Range %q: the page's extent is unknown while streaming without a count", got)
		}
		if !strings.Contains(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
		}
	})
	t.Run("counted: exact Content-Range and 206", func(t *testing.T) {
		res := ts.get("/big?select=id&order=id&offset=10&limit=15000", "Prefer: count=exact")
		if res.Status != 206 {
			t.Fatalf("status %d", res.Status)
		}
		if got := res.Header.Get("Content-Range"); got != "10-15009/20000" {
			t.Errorf("Content-Range %q", got)
		}
		var rows []row
		if err := json.Unmarshal([]byte(res.Body), &rows); err != nil || len(rows) != 15000 || rows[0].ID != 11 {
			t.Fatalf("%v, %d rows", err, len(rows))
		}
	})
	t.Run("stripped nulls", func(t *testing.T) {
		res := ts.get("/big?order=id", "Accept: application/vnd.pgrst.array+json;nulls=stripped")
		if res.Status != 200 || strings.Contains(res.Body, "null") {
			t.Fatalf("status %d, nulls left: %v", res.Status, strings.Contains(res.Body, "null"))
		}
	})
	t.Run("CSV", func(t *testing.T) {
		res := ts.get("/big?select=id,label&order=id", "Accept: text/csv")
		records, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
		if res.Status != 200 || err != nil {
			t.Fatalf("status %d: %v", res.Status, err)
		}
		if len(records) != 20001 || records[0][0] != "id" || records[1][1] != "row 1" || records[20000][0] != "20000" {
			t.Fatalf("%d records, first %v", len(records), records[:2])
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		res := ts.get("/big?order=id", "Accept: application/x-ndjson")
		if res.Status != 200 || res.Header.Get("Content-Type") != "application/x-ndjson; charset=utf-8" {
			t.Fatalf("status %d, Content-Type %q", res.Status, res.Header.Get("Content-Type"))
		}
		lines := strings.Split(strings.TrimSuffix(res.Body, "\n"), "\n")
		if len(lines) != 20000 || !strings.HasSuffix(res.Body, "}\n") {
			t.Fatalf("%d lines", len(lines))
		}
		for _, l := range []string{lines[0], lines[19999]} {
			var r row
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
		}
	})
	t.Run("NDJSON small and empty", func(t *testing.T) {
		if res := ts.get("/big?id=lt.3&order=id&select=id", "Accept: application/x-ndjson"); res.Body != "{\"id\":1}\n{\"id\":2}\n" {
			t.Errorf("body %q", res.Body)
		}
		if res := ts.get("/big?id=lt.0", "Accept: application/x-ndjson"); res.Status != 200 || res.Body != "" {
			t.Errorf("empty: %d %q", res.Status, res.Body)
		}
		if res := ts.do("POST", "/big", []string{"Accept: application/x-ndjson", jsonCT}, `{"id":1}`); res.Status != 406 {
			t.Errorf("NDJSON for a write: %d %s", res.Status, res.Body)
		}
	})
	t.Run("function rows", func(t *testing.T) {
		res := ts.get("/rpc/big_rows?lo=101&order=id")
		var rows []row
		if err := json.Unmarshal([]byte(res.Body), &rows); res.Status != 200 || err != nil || len(rows) != 19900 {
			t.Fatalf("status %d: %v, %d rows", res.Status, err, len(rows))
		}
	})
	t.Run("a small result keeps the function's response GUCs", func(t *testing.T) {
		res := ts.get("/rpc/set_header_big?id=lt.5")
		if res.Status != 200 || res.Header.Get("X-From-Function") != "yes" {
			t.Fatalf("status %d, X-From-Function %q", res.Status, res.Header.Get("X-From-Function"))
		}
	})
	t.Run("HEAD counts without a body", func(t *testing.T) {
		res := ts.do("HEAD", "/big", []string{"Prefer: count=exact"}, "")
		if res.Status != 200 || res.Body != "" || res.Header.Get("Content-Range") != "0-19999/20000" {
			t.Fatalf("status %d, Content-Range %q, %d bytes", res.Status, res.Header.Get("Content-Range"), len(res.Body))
		}
	})
	t.Run("small reads stay buffered", func(t *testing.T) {
		res := ts.get("/big?select=id&id=lt.4&order=id")
		if res.Status != 200 || res.Body != `[{"id":1},{"id":2},{"id":3}]` || res.Header.Get("Content-Range") != "0-2/*" {
			t.Fatalf("status %d, %q, Content-Range %q", res.Status, res.Body, res.Header.Get("Content-Range"))
		}
		if res.Header.Get("Content-Length") == "" {
			t.Error("a buffered response has a Content-Length")
		}
	})
	t.Run("the connection serves the next request after a buffered one", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if res := ts.get("/big?id=eq.1"); res.Status != 200 {
				t.Fatalf("status %d", res.Status)
			}
		}
	})
}

// TestStreamAbandoned: a client that stops reading a streamed response mid-way has its statement cancelled, and
// the pooled connection serves again.
func TestStreamAbandoned(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.ResponseBufferBytes = 4096; c.DBPool = 1 }, fixture(t), streamFixture)
	ts.DB.Exec(t, `CREATE FUNCTION api.slow_rows() RETURNS SETOF api.big LANGUAGE sql AS
		$$ SELECT b.* FROM api.big b, LATERAL (SELECT pg_sleep(0.001)) s $$;
		GRANT EXECUTE ON FUNCTION api.slow_rows() TO web_anon; NOTIFY pgrst, 'reload schema'`)
	waitForStatus(t, ts, "/rpc/slow_rows?limit=1", 200)

	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /rpc/slow_rows HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("status line %q: %v", status, err)
	}
	if _, err := io.ReadFull(br, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	conn.Close() // abandoned mid-stream

	// The backend stops running the statement, and the one pooled connection serves the next request.
	db, err := pgx.Connect(context.Background(), ts.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	deadline := time.Now().Add(3 * time.Second)
	for {
		var active int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = 'pgway' AND state = 'active' AND query LIKE '%slow_rows%'`).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if active == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the abandoned stream's statement still runs")
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(ts.URL + "/big?id=eq.1")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("next request: %v", err)
	}
	res.Body.Close()
}
