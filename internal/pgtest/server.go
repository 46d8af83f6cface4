package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDatabaseURL names the environment variable that points tests at an existing server instead of a throwaway one.
const EnvDatabaseURL = "PGWAY_TEST_DATABASE_URL"

// ServerOptions tunes a throwaway server; the zero value is ready to use.
type ServerOptions struct {
	// BinDir holds initdb and postgres; empty means look on PATH, then the highest /usr/lib/postgresql/*/bin.
	BinDir string
	// Settings are extra postgres settings passed as -c name=value; they override the defaults.
	Settings map[string]string
	// StartTimeout bounds how long to wait for the server to accept connections (default 60s).
	StartTimeout time.Duration
}

// Server is a running PostgreSQL cluster: a throwaway one from StartServer or an existing one from Existing.
type Server struct {
	base    *url.URL // superuser URL; its path is replaced by the database name
	dir     string   // temporary directory holding the data dir and log; empty for an existing server
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error
	// bin and cred are how postgres was started (bin directory, OS user), port where; for a throwaway server only.
	bin  string
	cred *syscall.Credential
	port int

	stopOnce sync.Once
	stopErr  error
}

// defaultSettings are the durability-off settings suited to tests; ServerOptions.Settings override them.
var defaultSettings = map[string]string{
	"listen_addresses":   "127.0.0.1",
	"fsync":              "off",
	"synchronous_commit": "off",
	"full_page_writes":   "off",
	"max_connections":    "200",
	"logging_collector":  "off",
	"log_min_messages":   "warning",
}

// StartServer initialises a cluster in a new temporary directory, starts postgres on a free loopback port and
// waits until it accepts connections. Running as root, initdb and postgres run as the postgres OS user.
// Stop shuts it down and removes the directory; should this process die first, postgres is sent SIGQUIT (Linux).
// The directory is on /dev/shm when that is a tmpfs with room, else under os.TempDir.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	bin := opts.BinDir
	if bin == "" {
		var err error
		if bin, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	cred, uid, gid, err := osCredential()
	if err != nil {
		return nil, err
	}
	removeStaleDirs()
	base := workBase(cred != nil)
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating server directory: %w", err)
	}
	s := &Server{dir: dir, exited: make(chan struct{}), bin: bin, cred: cred}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(fmt.Errorf("handing %s to the postgres user: %w", dir, err))
		}
	}
	data := filepath.Join(dir, "data")
	if err := initCluster(ctx, bin, base, data, cred); err != nil {
		return fail(err)
	}

	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	// A port picked by listening and closing can be taken again before postgres binds it: retry a few times.
	for attempt := 1; ; attempt++ {
		err := s.startPostgres(ctx, bin, data, cred, opts.Settings, timeout, 0)
		if err == nil {
			return s, nil
		}
		if attempt == 3 || ctx.Err() != nil || !strings.Contains(err.Error(), "could not bind") {
			return fail(err)
		}
	}
}

// startPostgres launches postgres once on port (0: a free one) and waits for it to accept connections.
func (s *Server) startPostgres(ctx context.Context, bin, data string, cred *syscall.Credential,
	extra map[string]string, timeout time.Duration, port int) error {
	var err error
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
	}
	s.port = port
	settings := map[string]string{"unix_socket_directories": s.dir}
	for k, v := range defaultSettings {
		settings[k] = v
	}
	for k, v := range extra {
		settings[k] = v
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port)}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating postgres log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = pgEnv()
	// Own process group: a terminal's Ctrl-C reaches us, not postgres, so we stop it in order.
	// Pdeathsig: if this process dies without Stop (panic, test timeout, SIGKILL), postgres shuts down at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGQUIT)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited = cmd, exited
	go func() { s.waitErr = cmd.Wait(); close(exited) }()
	s.base = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}

	switch err := awaitConnections(ctx, s.base.String(), exited, timeout); {
	case errors.Is(err, errExited):
		s.cmd = nil
		return fmt.Errorf("postgres exited during start-up (%v):\n%s", s.waitErr, tail(logPath))
	case err != nil:
		s.kill()
		return fmt.Errorf("postgres did not accept connections (last error: %v):\n%s", err, tail(logPath))
	}
	return nil
}

// errExited: the process exited before it accepted a connection.
var errExited = errors.New("exited during start-up")

// awaitConnections polls url until it accepts a connection (nil). It returns errExited when exited is closed
// first, and the last connection error when ctx ends or timeout passes.
func awaitConnections(ctx context.Context, url string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, url)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-exited:
			return errExited
		default:
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Existing returns a Server for an already-running cluster reached with a superuser URL; Stop leaves it running.
func Existing(rawURL string) (*Server, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing database URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("database URL must start with postgres:// or postgresql://, got %q", u.Scheme+"://")
	}
	return &Server{base: u}, nil
}

// URL returns the superuser connection URL of database dbname on this server.
func (s *Server) URL(dbname string) string {
	u := *s.base
	u.Path = "/" + dbname
	u.RawPath = ""
	return u.String()
}

// URLAs returns the connection URL of database dbname for login role with password (none when empty).
func (s *Server) URLAs(dbname, role, password string) string {
	return urlAs(s.base, dbname, role, password)
}

// urlAs is base for database dbname and login role with password (none when empty).
func urlAs(base *url.URL, dbname, role, password string) string {
	u := *base
	u.Path = "/" + dbname
	u.RawPath = ""
	if password == "" {
		u.User = url.User(role)
	} else {
		u.User = url.UserPassword(role, password)
	}
	return u.String()
}

// Pid returns the postmaster's process id, or 0 for a server from Existing or a stopped one.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop shuts a throwaway server down immediately and removes its directory. It is safe to call more than once;
// for a server from Existing it does nothing.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.dir == "" {
			return
		}
		s.kill()
		if err := os.RemoveAll(s.dir); err != nil {
			s.stopErr = fmt.Errorf("removing %s: %w", s.dir, err)
		}
	})
	return s.stopErr
}

// kill stops postgres with an immediate shutdown (SIGQUIT, as pg_ctl stop -m immediate), then SIGKILL if needed.
func (s *Server) kill() {
	stopProcess(s.cmd, s.exited, syscall.SIGQUIT, 10*time.Second)
	s.cmd = nil
}

// stopProcess sends cmd's process sig and waits for exited (closed once cmd was waited for); after grace it
// kills the process group.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}, sig syscall.Signal, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// FindBinDir locates the PostgreSQL server binaries: the directory of initdb on PATH (following symlinks),
// else the highest-versioned /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVer := "", -1.0
	for _, m := range matches {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(m)), 64)
		if err != nil || !isExecutable(filepath.Join(m, "initdb")) || !isExecutable(filepath.Join(m, "postgres")) {
			continue
		}
		if v > bestVer {
			best, bestVer = m, v
		}
	}
	if best == "" {
		return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: " +
			"run scripts/ensure-postgres.sh, or set " + EnvDatabaseURL + " to a superuser URL of a running server")
	}
	return best, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// osCredential returns the postgres OS user's credential when running as root (postgres refuses to run as
// root), else nil to run as ourselves.
func osCredential() (cred *syscall.Credential, uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return nil, 0, 0, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("running as root needs a postgres OS user to run the server as: %w", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid, nil
}

const dirPrefix = "pgway-pg-"

// workBase is where server directories and the initdb template go: a roomy tmpfs if there is one, else
// tempBase.
func workBase(otherUser bool) string {
	if dir, ok := fastBase(); ok {
		return dir
	}
	return tempBase(otherUser)
}

// tempBase is where server directories go: os.TempDir, unless another OS user (postgres, when we are root)
// could not reach it, in which case /tmp.
func tempBase(otherUser bool) string {
	base := os.TempDir()
	if !otherUser {
		return base
	}
	for d := base; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return base
		}
	}
}

// removeStaleDirs deletes server directories left by processes that died before Stop (their postgres has
// gone too, thanks to Pdeathsig): those without a live postmaster.pid.
func removeStaleDirs() {
	bases := []string{os.TempDir(), "/tmp"}
	if dir, ok := fastBase(); ok {
		bases = append(bases, dir)
	}
	for _, base := range bases {
		matches, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
		for _, dir := range matches {
			fi, err := os.Stat(dir)
			if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < time.Minute {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
			if err == nil {
				line, _, _ := strings.Cut(string(b), "\n")
				if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
					if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
						continue // still running
					}
				}
			} else if !errors.Is(err, os.ErrNotExist) {
				continue
			}
			os.RemoveAll(dir)
		}
	}
}

// pgEnv is the environment for initdb and postgres, without PG* variables that could redirect them.
func pgEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
