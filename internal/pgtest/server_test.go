package pgtest_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
)

func TestStartServerStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second PostgreSQL")
	}
	ctx := context.Background()
	s, err := pgtest.StartServer(ctx, pgtest.ServerOptions{Settings: map[string]string{"work_mem": "8MB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	url := s.URL("postgres")
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var workMem, dataDir string
	if err := conn.QueryRow(ctx, "SELECT current_setting('work_mem'), current_setting('data_directory')").Scan(&workMem, &dataDir); err != nil {
		t.Fatal(err)
	}
	pid := s.Pid()
	if b, err := os.ReadFile(dataDir + "/postmaster.pid"); err != nil || !strings.HasPrefix(string(b), strconv.Itoa(pid)+"\n") {
		t.Errorf("Pid() = %d, postmaster.pid starts %.10q (%v)", pid, b, err)
	}
	conn.Close(ctx)
	if workMem != "8MB" {
		t.Errorf("work_mem = %s, want 8MB from ServerOptions.Settings", workMem)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("data dir %s still there after Stop (stat: %v)", dataDir, err)
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Error("server still accepts connections after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if s.Pid() != 0 {
		t.Errorf("Pid() = %d after Stop, want 0", s.Pid())
	}
}

func TestExistingURL(t *testing.T) {
	s, err := pgtest.Existing("postgres://me:pw@db.example:6543/postgres?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ got, want string }{
		{s.URL("app"), "postgres://me:pw@db.example:6543/app?sslmode=require"},
		{s.URLAs("app", "web", ""), "postgres://web@db.example:6543/app?sslmode=require"},
		{s.URLAs("app", "web", "p@ss"), "postgres://web:p%40ss@db.example:6543/app?sslmode=require"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop of an existing server: %v", err)
	}
	if _, err := pgtest.Existing("mysql://x"); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("bad scheme accepted: %v", err)
	}
}
