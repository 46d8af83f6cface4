package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// PgBouncerOptions tunes a PgBouncer in front of a server; the zero value is transaction pooling.
type PgBouncerOptions struct {
	// PoolMode is pool_mode: transaction (default), session or statement.
	PoolMode string
	// PoolSize is default_pool_size: server connections per database and user (default 20).
	PoolSize int
	// Users may log in through it besides postgres and authenticator (auth_type trust: PgBouncer still wants
	// each user in its auth_file).
	Users []string
	// MaxPreparedStatements is max_prepared_statements, PgBouncer 1.21's protocol-level prepared statements in
	// transaction mode (0: not set; older versions refuse the setting).
	MaxPreparedStatements int
	// Settings are more [pgbouncer] settings; they override the defaults.
	Settings map[string]string
	// Bin is the pgbouncer program (default: FindPgBouncer).
	Bin string
}

// PgBouncer is a running PgBouncer (Debian's package), listening on a free loopback port and passing every
// database name through to its server.
type PgBouncer struct {
	dir     string
	cmd     *exec.Cmd
	exited  chan struct{}
	base    *url.URL
	version string

	stopOnce sync.Once
}

// FindPgBouncer locates the pgbouncer program: on PATH, else /usr/sbin/pgbouncer (where Debian installs it).
func FindPgBouncer() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	if isExecutable("/usr/sbin/pgbouncer") {
		return "/usr/sbin/pgbouncer", nil
	}
	return "", errors.New("pgbouncer not found on PATH or in /usr/sbin: run scripts/ensure-pgbouncer.sh (make test does)")
}

var pgbouncerVersion = regexp.MustCompile(`PgBouncer (\d+)\.(\d+)(?:\.(\d+))?`)

// PgBouncerVersion runs bin --version and returns its version ("1.18.0") and major and minor numbers.
func PgBouncerVersion(bin string) (string, int, int, error) {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "", 0, 0, fmt.Errorf("%s --version: %w\n%s", bin, err, out)
	}
	m := pgbouncerVersion.FindStringSubmatch(string(out))
	if m == nil {
		return "", 0, 0, fmt.Errorf("%s --version: no version in %q", bin, out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return strings.TrimPrefix(m[0], "PgBouncer "), major, minor, nil
}

// StartPgBouncer starts PgBouncer in front of s with a generated configuration: every database of s under its
// own name, auth_type trust, the pool mode and size of opts. Running as root, it runs as the postgres OS user
// (PgBouncer refuses root). Stop shuts it down and removes its directory.
func (s *Server) StartPgBouncer(ctx context.Context, opts PgBouncerOptions) (*PgBouncer, error) {
	bin := opts.Bin
	if bin == "" {
		var err error
		if bin, err = FindPgBouncer(); err != nil {
			return nil, err
		}
	}
	version, _, _, err := PgBouncerVersion(bin)
	if err != nil {
		return nil, err
	}
	cred, uid, gid, err := osCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempBase(cred != nil), "pgway-pgbouncer-")
	if err != nil {
		return nil, err
	}
	b := &PgBouncer{dir: dir, version: version}
	fail := func(err error) (*PgBouncer, error) {
		b.Stop()
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	host, port := s.base.Hostname(), s.base.Port()
	if port == "" {
		port = "5432"
	}
	users := append([]string{"postgres", "authenticator"}, opts.Users...)
	var userlist strings.Builder
	for _, u := range users {
		fmt.Fprintf(&userlist, "%q \"\"\n", u)
	}
	if err := writeOwned(filepath.Join(dir, "userlist.txt"), userlist.String(), cred); err != nil {
		return fail(err)
	}
	settings := map[string]string{
		"listen_addr":               "127.0.0.1",
		"unix_socket_dir":           "",
		"auth_type":                 "trust",
		"auth_file":                 filepath.Join(dir, "userlist.txt"),
		"pool_mode":                 "transaction",
		"default_pool_size":         "20",
		"max_client_conn":           "2000",
		"admin_users":               "postgres",
		"ignore_startup_parameters": "extra_float_digits",
		"logfile":                   filepath.Join(dir, "pgbouncer.log"),
		"pidfile":                   filepath.Join(dir, "pgbouncer.pid"),
		"log_connections":           "0",
		"log_disconnections":        "0",
	}
	if opts.PoolMode != "" {
		settings["pool_mode"] = opts.PoolMode
	}
	if opts.PoolSize > 0 {
		settings["default_pool_size"] = strconv.Itoa(opts.PoolSize)
	}
	if opts.MaxPreparedStatements > 0 {
		settings["max_prepared_statements"] = strconv.Itoa(opts.MaxPreparedStatements)
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	for attempt := 1; ; attempt++ {
		lport, err := freePort()
		if err != nil {
			return fail(err)
		}
		settings["listen_port"] = strconv.Itoa(lport)
		keys := make([]string, 0, len(settings))
		for k := range settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ini strings.Builder
		fmt.Fprintf(&ini, "[databases]\n* = host=%s port=%s\n\n[pgbouncer]\n", host, port)
		for _, k := range keys {
			fmt.Fprintf(&ini, "%s = %s\n", k, settings[k])
		}
		conf := filepath.Join(dir, "pgbouncer.ini")
		if err := writeOwned(conf, ini.String(), cred); err != nil {
			return fail(err)
		}
		err = b.start(ctx, bin, conf, cred, lport)
		if err == nil {
			return b, nil
		}
		if attempt == 3 || ctx.Err() != nil || !strings.Contains(err.Error(), "in use") {
			return fail(err)
		}
	}
}

// start runs pgbouncer with conf and waits until it answers on port.
func (b *PgBouncer) start(ctx context.Context, bin, conf string, cred *syscall.Credential, port int) error {
	cmd := exec.Command(bin, conf)
	cmd.Env = pgEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
	logPath := filepath.Join(b.dir, "pgbouncer.log")
	out, err := os.Create(filepath.Join(b.dir, "stderr.log"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting pgbouncer: %w", err)
	}
	exited := make(chan struct{})
	b.cmd, b.exited = cmd, exited
	go func() { _ = cmd.Wait(); close(exited) }()
	b.base = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	switch err := awaitConnections(ctx, b.base.String(), exited, 30*time.Second); {
	case errors.Is(err, errExited):
		b.cmd = nil
		return fmt.Errorf("pgbouncer exited during start-up:\n%s%s", tail(filepath.Join(b.dir, "stderr.log")), tail(logPath))
	case err != nil:
		b.kill()
		return fmt.Errorf("pgbouncer did not accept connections (last error: %v):\n%s", err, tail(logPath))
	}
	return nil
}

// StartPgBouncer starts PgBouncer in front of the server NewDatabase creates databases on (see
// Server.StartPgBouncer) and stops it when t ends. Without pgbouncer installed the test fails, naming the
// script that installs it.
func StartPgBouncer(t testing.TB, opts ...PgBouncerOptions) *PgBouncer {
	t.Helper()
	s, err := server()
	if err != nil {
		t.Fatal(err)
	}
	var o PgBouncerOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	b, err := s.StartPgBouncer(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Stop() })
	return b
}

// Version is PgBouncer's version ("1.18.0").
func (b *PgBouncer) Version() string { return b.version }

// Pid is PgBouncer's process id (0 once stopped).
func (b *PgBouncer) Pid() int {
	if b.cmd == nil || b.cmd.Process == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// URL is the connection URL of database dbname through PgBouncer, as the postgres superuser.
func (b *PgBouncer) URL(dbname string) string { return b.URLAs(dbname, "postgres", "") }

// URLAs is the connection URL of database dbname through PgBouncer for role (with password, when not empty).
func (b *PgBouncer) URLAs(dbname, role, password string) string {
	return urlAs(b.base, dbname, role, password)
}

// Running reports whether PgBouncer is still running (it exits on an internal error, logging FATAL).
func (b *PgBouncer) Running() bool {
	if b.cmd == nil {
		return false
	}
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Log is what PgBouncer logged so far (its tail).
func (b *PgBouncer) Log() string { return tail(filepath.Join(b.dir, "pgbouncer.log")) }

// Stop shuts PgBouncer down at once (SIGTERM, then SIGKILL) and removes its directory.
func (b *PgBouncer) Stop() {
	b.stopOnce.Do(func() {
		b.kill()
		os.RemoveAll(b.dir)
	})
}

func (b *PgBouncer) kill() {
	stopProcess(b.cmd, b.exited, syscall.SIGTERM, 5*time.Second)
	b.cmd = nil
}

// writeOwned writes a file readable by cred's user (the postgres OS user when running as root).
func writeOwned(path, text string, cred *syscall.Credential) error {
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return err
	}
	if cred != nil {
		return os.Chown(path, int(cred.Uid), int(cred.Gid))
	}
	return nil
}
