package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
)

// TestReplica: a replica of the test server streams every database, is read-only, can pause its replay, and
// comes back after a kill.
func TestReplica(t *testing.T) {
	r := pgtest.StartReplica(t)
	db := pgtest.NewDatabase(t, "CREATE TABLE t (n int); INSERT INTO t VALUES (1);")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		c, err := pgx.Connect(ctx, r.URL(db.Name))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var n int
		var recovery bool
		if err := c.QueryRow(ctx, "SELECT count(*), pg_is_in_recovery() FROM t").Scan(&n, &recovery); err != nil {
			t.Fatal(err)
		}
		if !recovery {
			t.Fatal("the replica is not in recovery")
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("replica has %d rows, want 1", n)
	}
	if err := r.PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	db.Exec(t, "INSERT INTO t VALUES (2)")
	time.Sleep(300 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("paused replica has %d rows, want 1", n)
	}
	if err := r.ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("replica has %d rows after resuming, want 2", n)
	}
	r.Kill()
	if c, err := pgx.Connect(ctx, r.URL(db.Name)); err == nil {
		c.Close(ctx)
		t.Fatal("killed replica accepts connections")
	}
	db.Exec(t, "INSERT INTO t VALUES (3)")
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("restarted replica has %d rows, want 3 (WAL kept by its slot while it was down)", n)
	}
}

// TestPgBouncer: PgBouncer in transaction mode passes a database through; each transaction may run on another
// server connection.
func TestPgBouncer(t *testing.T) {
	b := pgtest.StartPgBouncer(t, pgtest.PgBouncerOptions{PoolSize: 2})
	t.Logf("PgBouncer %s", b.Version())
	db := pgtest.NewDatabase(t, "CREATE TABLE t (n int); INSERT INTO t VALUES (7);")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, b.URL(db.Name)+"&default_query_exec_mode=exec")
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Log())
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT n FROM t WHERE n = $1", 7).Scan(&n); err != nil || n != 7 {
		t.Fatalf("through PgBouncer: %d, %v", n, err)
	}
}
