package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReplicaOptions tunes a streaming replica; the zero value is ready to use.
type ReplicaOptions struct {
	// Settings are extra postgres settings of the replica (-c name=value), e.g. recovery_min_apply_delay.
	Settings map[string]string
	// StartTimeout bounds the base backup and the start (default 60s).
	StartTimeout time.Duration
}

// Replica is a hot-standby streaming replica of a throwaway server: a base backup taken with pg_basebackup -R
// through a replication slot of its own (so the primary keeps the WAL it has not received, also while it is
// down), started on its own free port. Its URL and URLAs name the same databases as the primary's, read-only.
type Replica struct {
	*Server
	primary  *Server
	slot     string
	data     string
	settings map[string]string
	timeout  time.Duration

	mu       sync.Mutex // guards starting and stopping
	stopOnce sync.Once
	stopErr  error
}

// replicaSettings are every replica's: hot standby, and feedback so that the primary's vacuum does not cancel
// the replica's queries.
var replicaSettings = map[string]string{
	"hot_standby":                  "on",
	"hot_standby_feedback":         "on",
	"wal_receiver_status_interval": "1s",
}

// StartReplica takes a base backup of s (a throwaway server) and starts it as a streaming replica. Stop stops it,
// removes its directory and drops its slot on s.
func (s *Server) StartReplica(ctx context.Context, opts ReplicaOptions) (*Replica, error) {
	if s.dir == "" || s.bin == "" {
		return nil, errors.New("pgtest: a replica needs a throwaway primary (not " + EnvDatabaseURL + ")")
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	dir, err := os.MkdirTemp(workBase(s.cred != nil), dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating replica directory: %w", err)
	}
	rs := &Server{dir: dir, exited: make(chan struct{}), bin: s.bin, cred: s.cred}
	r := &Replica{Server: rs, primary: s, slot: "pgtest_replica_" + randomHex(4), data: filepath.Join(dir, "data"),
		timeout: timeout, settings: map[string]string{}}
	for k, v := range replicaSettings {
		r.settings[k] = v
	}
	for k, v := range opts.Settings {
		r.settings[k] = v
	}
	fail := func(err error) (*Replica, error) {
		r.Stop()
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fail(fmt.Errorf("handing %s to the postgres user: %w", dir, err))
		}
	}
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(bctx, filepath.Join(s.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", fmt.Sprint(s.port),
		"-U", "postgres", "-D", r.data, "-R", "-X", "stream", "-c", "fast", "-C", "-S", r.slot, "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Env = pgEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pg_basebackup: %w\n%s", err, out))
	}
	for attempt := 1; ; attempt++ {
		err := rs.startPostgres(ctx, s.bin, r.data, s.cred, r.settings, timeout, 0)
		if err == nil {
			return r, nil
		}
		if attempt == 3 || ctx.Err() != nil || !strings.Contains(err.Error(), "could not bind") {
			return fail(err)
		}
	}
}

// StartReplica starts a streaming replica of the server NewDatabase creates databases on (see Server.StartReplica)
// and stops it when t ends; the databases of NewDatabase are on it too (read-only). A test run against
// PGWAY_TEST_DATABASE_URL is skipped: a replica needs a throwaway primary.
func StartReplica(t testing.TB, opts ...ReplicaOptions) *Replica {
	t.Helper()
	s, err := server()
	if err != nil {
		t.Fatal(err)
	}
	if s.dir == "" {
		t.Skip("pgtest: a replica needs the throwaway server, not " + EnvDatabaseURL)
	}
	var o ReplicaOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	r, err := s.StartReplica(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("pgtest: stopping the replica: %v", err)
		}
	})
	return r
}

// Kill ends the replica the hard way, as a crash or a lost machine: SIGKILL to postgres and all its processes,
// so that clients' connections break without a word. Restart brings it back.
func (r *Replica) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	killTree(r.cmd.Process.Pid)
	<-r.exited
	r.cmd = nil
}

// Restart starts a stopped or killed replica again on the same port; it recovers and resumes streaming.
func (r *Replica) Restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return errors.New("pgtest: the replica is running")
	}
	_ = os.Remove(filepath.Join(r.data, "postmaster.pid")) // left by a SIGKILL; no process holds it
	return r.startPostgres(ctx, r.bin, r.data, r.cred, r.settings, r.timeout, r.port)
}

// Stop stops the replica, removes its directory and drops its replication slot on the primary.
func (r *Replica) Stop() error {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.stopErr = r.Server.Stop()
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		// The slot is busy until the primary's walsender notices its replica is gone.
		for {
			err := execURL(ctx, r.primary.URL("postgres"), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "+
				"WHERE slot_name = '"+r.slot+"'")
			if err == nil || ctx.Err() != nil {
				if err != nil && r.stopErr == nil {
					r.stopErr = fmt.Errorf("dropping replication slot %s: %w", r.slot, err)
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return r.stopErr
}

// PauseReplay pauses WAL replay on the replica (pg_wal_replay_pause): it keeps receiving WAL and answering
// queries, from what it had replayed. ResumeReplay resumes it.
func (r *Replica) PauseReplay(ctx context.Context) error {
	return execURL(ctx, r.URL("postgres"), "SELECT pg_wal_replay_pause()")
}

// ResumeReplay resumes WAL replay paused by PauseReplay.
func (r *Replica) ResumeReplay(ctx context.Context) error {
	return execURL(ctx, r.URL("postgres"), "SELECT pg_wal_replay_resume()")
}

// CatchUp waits until the replica has replayed everything the primary had written when it was called.
func (r *Replica) CatchUp(ctx context.Context) error {
	pc, err := pgx.Connect(ctx, r.primary.URL("postgres"))
	if err != nil {
		return err
	}
	defer pc.Close(context.Background())
	var target string
	if err := pc.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&target); err != nil {
		return err
	}
	rc, err := pgx.Connect(ctx, r.URL("postgres"))
	if err != nil {
		return err
	}
	defer rc.Close(context.Background())
	nudged := time.Now()
	for {
		var done bool
		if err := rc.QueryRow(ctx, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", target).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Since(nudged) > 500*time.Millisecond {
			// The insert position may lie just past a page header that no record fills yet, or the WAL may
			// not have been flushed (synchronous_commit is off): a commit writes more and flushes it.
			if _, err := pc.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
				return err
			}
			nudged = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replica did not replay up to %s: %w", target, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
