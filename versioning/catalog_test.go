package versioning_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/migrations"
	"github.com/pgway/pgway/versioning"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// connect opens a connection to url for the test.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// bundled is a database with pgway's bundled migrations applied: versions v1 (active) and v2 (current).
func bundled(t *testing.T) *pgtest.DB {
	t.Helper()
	db := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := migrations.New(ctx, connect(t, db.URL), migrations.Example(), io.Discard)
	if err == nil {
		err = r.Up(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func names(vs []versioning.Version) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name+"="+v.Status)
	}
	return strings.Join(out, ",")
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	empty := pgtest.NewDatabase(t)
	c, err := versioning.Load(ctx, connect(t, empty.URL))
	if err != nil || len(c.Versions()) != 0 {
		t.Fatalf("without pgway.api_versions: %v %v, want an empty catalog", c.Versions(), err)
	}
	if _, err := versioning.List(ctx, connect(t, empty.URL)); !errors.Is(err, versioning.ErrNoCatalog) {
		t.Fatalf("List without pgway.api_versions: %v, want ErrNoCatalog", err)
	}

	db := bundled(t)
	db.Exec(t, `INSERT INTO pgway.api_versions (name, schema_name, status, deprecated_at, sunset_at, successor)
		VALUES ('v10', 'api_v10', 'deprecated', '2026-01-01Z', '2027-06-30Z', 'v2');
		DO $$BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'versioning_nobody') THEN CREATE ROLE versioning_nobody NOLOGIN; END IF;
		END$$;`)
	// The server's pool runs in exec mode; the command's connection in the default mode.
	for _, mode := range []string{"", "&default_query_exec_mode=exec", "&default_query_exec_mode=simple_protocol"} {
		c, err := versioning.Load(ctx, connect(t, db.URL+mode))
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := names(c.Versions()); got != "v1=active,v2=current,v10=deprecated" {
			t.Fatalf("%s: versions %s", mode, got)
		}
		v10, _ := c.ByName("v10")
		if !v10.DeprecatedAt.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !v10.SunsetAt.Equal(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)) ||
			v10.Successor != "v2" || v10.Schema != "api_v10" {
			t.Fatalf("%s: v10 = %+v", mode, v10)
		}
		if v1, _ := c.ByName("v1"); !v1.DeprecatedAt.IsZero() || !v1.SunsetAt.IsZero() || v1.Status != "active" {
			t.Fatalf("%s: v1 = %+v", mode, v1)
		}
	}
	// A role that may not read the catalog sees none, and is no error.
	conn := connect(t, db.URL)
	if _, err := conn.Exec(ctx, "SET ROLE versioning_nobody"); err != nil {
		t.Fatal(err)
	}
	if c, err := versioning.Load(ctx, conn); err != nil || len(c.Versions()) != 0 {
		t.Fatalf("unreadable catalog: %v %v", c.Versions(), err)
	}
}

// TestDeprecatePromote: the catalog changes and the reload notification on the configured channel.
func TestDeprecatePromote(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := bundled(t)
	conn := connect(t, db.URL)
	listener := connect(t, db.URL)
	if _, err := listener.Exec(ctx, "LISTEN my_channel"); err != nil {
		t.Fatal(err)
	}
	// notified is the next notification within wait, or "none".
	notified := func(wait time.Duration) string {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		n, err := listener.WaitForNotification(wctx)
		if err != nil {
			return "none"
		}
		return n.Channel + ": " + n.Payload
	}

	sunset := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := versioning.Deprecate(ctx, conn, "v1", sunset, "", "my_channel"); err != nil {
		t.Fatal(err)
	}
	if got := notified(5 * time.Second); got != "my_channel: reload schema" {
		t.Fatalf("notification %q", got)
	}
	vs, err := versioning.List(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	v1 := vs[slices.IndexFunc(vs, func(v versioning.Version) bool { return v.Name == "v1" })]
	if v1.Status != versioning.StatusDeprecated || !v1.SunsetAt.Equal(sunset) || v1.Successor != "v2" ||
		time.Since(v1.DeprecatedAt) > time.Minute {
		t.Fatalf("after Deprecate: %+v", v1)
	}
	// Deprecating again keeps the first date, the sunset and the successor.
	first := v1.DeprecatedAt
	if err := versioning.Deprecate(ctx, conn, "v1", time.Time{}, "", ""); err != nil {
		t.Fatal(err)
	}
	if got := notified(300 * time.Millisecond); got != "none" {
		t.Fatalf("notified %q without a channel", got)
	}
	c, err := versioning.Load(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if v1, _ = c.ByName("v1"); !v1.DeprecatedAt.Equal(first) || !v1.SunsetAt.Equal(sunset) || v1.Successor != "v2" {
		t.Fatalf("after deprecating again: %+v", v1)
	}
	if err := versioning.Deprecate(ctx, conn, "v9", time.Time{}, "", "my_channel"); err == nil || !strings.Contains(err.Error(), "no version v9") {
		t.Fatalf("deprecating v9: %v", err)
	}
	if got := notified(300 * time.Millisecond); got != "none" {
		t.Fatalf("a failed change notified %q", got)
	}

	if err := versioning.Promote(ctx, conn, "v1", "my_channel"); err != nil {
		t.Fatal(err)
	}
	if got := notified(5 * time.Second); got != "my_channel: reload schema" {
		t.Fatalf("notification %q", got)
	}
	if vs, err = versioning.List(ctx, conn); err != nil || names(vs) != "v1=current,v2=active" {
		t.Fatalf("after Promote: %s %v", names(vs), err)
	}
	if vs[0].DeprecatedAt != (time.Time{}) || vs[0].SunsetAt != (time.Time{}) {
		t.Fatalf("Promote keeps dates: %+v", vs[0])
	}
	// The successor can be named.
	if err := versioning.Deprecate(ctx, conn, "v2", time.Time{}, "v1", ""); err != nil {
		t.Fatal(err)
	}
	if c, err = versioning.Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if v2, _ := c.ByName("v2"); v2.Successor != "v1" || v2.Status != versioning.StatusDeprecated || !v2.SunsetAt.IsZero() {
		t.Fatalf("v2 deprecated towards v1: %+v", v2)
	}
	if err := versioning.Promote(ctx, conn, "v9", ""); err == nil || !strings.Contains(err.Error(), "no version v9") {
		t.Fatalf("promoting v9: %v", err)
	}
	if vs, _ = versioning.List(ctx, conn); names(vs) != "v1=current,v2=deprecated" {
		t.Fatalf("a failed Promote changed the catalog: %s", names(vs))
	}
}
