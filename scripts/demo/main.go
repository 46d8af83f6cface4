// Command demo is `make run`: it starts a throwaway PostgreSQL, creates the PostgREST-style roles, applies the
// bundled migrations with `pgway migrate up`, serves them with `pgway serve` and prints example requests.
// Ctrl-C stops pgway and PostgreSQL and removes the data directory.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

//go:embed fallback.sql
var fallbackSQL string

// Names the demo uses.
const (
	dbName   = "pgway_demo"
	schemas  = "api_v2,api_v1"
	anonRole = "web_anon"
)

// rolesSQL creates the roles PostgREST's tutorials use: authenticator logs in and switches to web_anon
// (anonymous requests) or web_user (requests with a JWT whose role claim is web_user).
const rolesSQL = `
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_anon NOLOGIN;
CREATE ROLE web_user NOLOGIN;
GRANT web_anon TO authenticator;
GRANT web_user TO authenticator;
`

func main() {
	pgwayBin := flag.String("pgway", "bin/pgway", "pgway binary (built with `go build ./cmd/pgway` when missing)")
	port := flag.Int("port", 3000, "HTTP port for pgway serve")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *pgwayBin, *port); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, pgwayBin string, port int) error {
	bin, cleanup, err := ensureBinary(ctx, pgwayBin)
	if err != nil {
		return err
	}
	defer cleanup()

	fmt.Println("demo: starting a throwaway PostgreSQL ...")
	srv, err := pgtest.StartServer(ctx, pgtest.ServerOptions{})
	if err != nil {
		return fmt.Errorf("starting PostgreSQL: %w", err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "demo: stopping PostgreSQL:", err)
		} else {
			fmt.Println("demo: PostgreSQL stopped, data directory removed")
		}
	}()

	if err := setup(ctx, srv, bin, os.Stdout, os.Stderr); err != nil {
		return err
	}
	return serve(ctx, srv, bin, port)
}

// setup creates the demo database and roles and loads the sample schema: the bundled migrations, or the
// fallback SQL when this pgway has no migrate command yet.
func setup(ctx context.Context, srv *pgtest.Server, bin string, stdout, stderr io.Writer) error {
	if err := execSQL(ctx, srv.URL("postgres"), "CREATE DATABASE "+dbName); err != nil {
		return fmt.Errorf("creating database: %w", err)
	}
	if err := execSQL(ctx, srv.URL(dbName), rolesSQL); err != nil {
		return fmt.Errorf("creating roles: %w", err)
	}
	fmt.Fprintln(stdout, "demo: pgway migrate up ...")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "migrate", "up", "--db-uri", srv.URL(dbName))
	cmd.Stdout, cmd.Stderr = io.MultiWriter(stdout, &out), &out
	err := cmd.Run()
	switch {
	case err == nil:
		return nil
	case strings.Contains(out.String(), "unknown command"):
		fmt.Fprintln(stderr, "demo: this pgway has no migrate command yet; loading scripts/demo/fallback.sql instead")
		if err := execSQL(ctx, srv.URL(dbName), fallbackSQL); err != nil {
			return fmt.Errorf("loading fallback schema: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("pgway migrate up: %w\n%s", err, out.String())
	}
}

// serve runs pgway serve until ctx is cancelled (Ctrl-C) or pgway exits.
func serve(ctx context.Context, srv *pgtest.Server, bin string, port int) error {
	dbURI := srv.URLAs(dbName, "authenticator", "")
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"PGRST_DB_URI="+dbURI,
		"PGRST_DB_SCHEMAS="+schemas,
		"PGRST_DB_ANON_ROLE="+anonRole,
		"PGRST_SERVER_PORT="+strconv.Itoa(port),
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Own process group, so Ctrl-C reaches only us and we stop pgway before PostgreSQL; pgway exits with us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGTERM)
	fmt.Printf("demo: pgway serve on :%d (PGRST_DB_URI=%s PGRST_DB_SCHEMAS=%s PGRST_DB_ANON_ROLE=%s)\n",
		port, dbURI, schemas, anonRole)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting pgway serve: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	base := "http://localhost:" + strconv.Itoa(port)
	ready := make(chan bool, 1)
	go func() { ready <- waitHTTP(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))) }()
	select {
	case ok := <-ready:
		if !ok {
			if ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "demo: pgway serve is running but nothing answers on :%d yet\n", port)
			}
			break
		}
		examples, err := exampleRequests(ctx, srv.URL(dbName), base)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil { // (an interrupt right after start just stops)
			fmt.Println("\npgway is serving. Try:")
			for _, e := range examples {
				fmt.Println("  " + e)
			}
			fmt.Println("\nCtrl-C stops pgway and PostgreSQL.")
		}
	case err := <-exited:
		return fmt.Errorf("pgway serve exited before serving: %v", err)
	case <-ctx.Done():
	}

	select {
	case err := <-exited:
		return fmt.Errorf("pgway serve exited: %v", err)
	case <-ctx.Done():
	}
	fmt.Println("\ndemo: stopping pgway ...")
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	return nil
}

// waitHTTP reports whether something answers HTTP on addr before ctx ends (gives up after a minute).
func waitHTTP(ctx context.Context, addr string) bool {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// errNoReadable: a schema has no relation the anonymous role may read.
var errNoReadable = errors.New("no readable relation")

// exampleRequests returns three curl lines over the sample schema: a filtered read of the newest version, a
// read of the older version through Accept-Profile, and the OpenAPI document.
func exampleRequests(ctx context.Context, dbURL, base string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	// first is the first relation of schema, by name, that anonRole may read, and its first column.
	first := func(schema string) (table, column string, err error) {
		c, err := schemacache.Load(ctx, conn, []string{schema})
		if err != nil {
			return "", "", err
		}
		privs, err := schemacache.LoadPrivileges(ctx, conn, anonRole, []string{schema})
		if err != nil {
			return "", "", err
		}
		var found *schemacache.Relation
		for q, rel := range c.Relations {
			if q.Schema == schema && len(rel.Columns) > 0 && privs.Allows(q, schemacache.PrivSelect) &&
				(found == nil || rel.Name < found.Name) {
				found = rel
			}
		}
		if found == nil {
			return "", "", errNoReadable
		}
		return found.Name, found.Columns[0].Name, nil
	}
	t2, c2, err := first("api_v2")
	if err != nil {
		return nil, fmt.Errorf("finding a readable table in api_v2: %w", err)
	}
	t1, _, err := first("api_v1")
	if errors.Is(err, errNoReadable) {
		t1 = t2
	} else if err != nil {
		return nil, fmt.Errorf("finding a readable table in api_v1: %w", err)
	}
	return []string{
		fmt.Sprintf("curl '%s/%s?limit=2&order=%s.desc'", base, t2, c2),
		fmt.Sprintf("curl '%s/%s?limit=2' -H 'Accept-Profile: api_v1'", base, t1),
		fmt.Sprintf("curl '%s/' -H 'Accept: application/openapi+json'", base),
	}, nil
}

// ensureBinary returns path when it is an executable, else builds ./cmd/pgway into a temporary directory.
func ensureBinary(ctx context.Context, path string) (string, func(), error) {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		abs, err := filepath.Abs(path)
		return abs, func() {}, err
	}
	dir, err := os.MkdirTemp("", "pgway-demo-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "pgway")
	fmt.Printf("demo: %s not found; building ./cmd/pgway ...\n", path)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pgway")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building pgway: %w", err)
	}
	return bin, cleanup, nil
}

// execSQL runs a multi-statement script (simple protocol) in the database at url.
func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}
