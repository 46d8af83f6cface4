// Package dbexec runs a request's settings and main statement in one transaction and one round trip.
package dbexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgway/pgway/internal/apierr"
)

// Executor runs statements on a pool.
type Executor struct {
	Pool           *pgxpool.Pool
	AcquireTimeout time.Duration
	// AppSettings are set as app.settings.<key> GUCs in every transaction (PostgREST's app.settings.*).
	AppSettings [][2]string
	// PreRequest is the quoted, qualified name of the db-pre-request function ("" for none).
	PreRequest string
	// NoPrepare turns named prepared statements off (PostgREST's db-prepared-statements = false).
	NoPrepare bool
	// CancelHandler builds a connection's handler of a cancelled exchange for Tx.Interrupter (the pool's
	// ConnConfig.BuildContextWatcherHandler: a cancel request, then a deadline on the socket).
	CancelHandler func(*pgconn.PgConn) ctxwatch.Handler
	// StatementTimeout is statement_timeout for every request's transaction, in PostgreSQL's text form
	// ("30000" is 30 s; "" leaves the server's setting): pgway's db-statement-timeout. It is set before the
	// impersonated role's and the function's hoisted settings, which override it.
	StatementTimeout string
}

// Tx are the per-request transaction settings (PostgREST's role, claims and search_path handling).
type Tx struct {
	Role       string
	Claims     string // JSON of the JWT claims ("" = none)
	SearchPath string // already-quoted, comma-separated schema list
	Method     string // request.method
	Path       string // request.path
	Headers    string // request.headers JSON
	Cookies    string // request.cookies JSON ("" = {})
	ReadOnly   bool
	// Isolation, when set, runs the exchange as an explicit transaction of that isolation level (the impersonated
	// role's or the called function's default_transaction_isolation); RoleSettings must not carry it.
	Isolation Isolation
	// Timezone is Prefer: timezone= (validated), set as the transaction's timezone ("" = the default).
	Timezone string
	// Generation identifies the schema cache the statements were built from: a connection's statements
	// prepared under another generation are dropped (a reload may change a statement's result types under the
	// same text).
	Generation uint64
	// Response, when set, receives the response.headers and response.status GUCs the statements left behind
	// (read in the same round trip, after them).
	Response *GUCResponse
	// Waiter, when set, bounds the waits for a pool connection (otherwise context.WithTimeout does).
	Waiter Waiter
	// Interrupter, when set with Executor.CancelHandler, stops the exchange in PostgreSQL if the request ends
	// early (otherwise pgconn watches the request's context).
	Interrupter Interrupter
	// CommitLSN, when set on a transaction that writes, receives the WAL position its commit reached (0: not
	// known), read after the commit in the same round trip: a read replica that has replayed up to it sees the
	// write (lsn.go).
	CommitLSN *LSN
	// responseInMain: the main statement returns the response GUCs itself (no separate query).
	responseInMain bool

	appSettings [][2]string
	// statementTimeout is Executor.StatementTimeout ("" = none).
	statementTimeout string
	// RoleSettings are the impersonated role's own settings (ALTER ROLE … SET), applied to the transaction
	// before app.settings and Prefer: timezone, as PostgREST does.
	RoleSettings [][2]string
}

// GUCResponse holds PostgREST's response.headers (a JSON array of one-key objects) and response.status, as
// set by functions, triggers or the pre-request; nil when unset.
type GUCResponse struct {
	Headers []byte
	Status  []byte
}

// take stores the response.headers and response.status values (nil is SQL NULL).
func (g *GUCResponse) take(headers, status []byte) {
	if g == nil {
		return
	}
	if headers != nil {
		g.Headers = append(g.Headers[:0], headers...)
	}
	if status != nil {
		g.Status = append(g.Status[:0], status...)
	}
}

const gucResponseSQL = "SELECT nullif(current_setting('response.headers', true), ''), nullif(current_setting('response.status', true), '')"

// settingsList sets every per-request GUC in one target list (PostgREST does the same with set_config).
const settingsList = "set_config('search_path', $1, true), set_config('role', $2, true), " +
	"set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true), " +
	"set_config('request.path', $5, true), set_config('request.headers', $6, true), " +
	"set_config('request.cookies', $7, true)"

const readOnlyList = settingsList + ", set_config('transaction_read_only', 'on', true)"

// timeoutItem sets statement_timeout ($8); it goes first, so that the role's and the function's settings,
// set after it, override it.
const timeoutItem = "set_config('statement_timeout', $8, true), "

// Without role settings, app.settings or a time zone the settings statement is one of these constants.
const (
	settingsSQL        = "SELECT " + settingsList
	readOnlySQL        = "SELECT " + readOnlyList
	settingsTimeoutSQL = "SELECT " + timeoutItem + settingsList
	readOnlyTimeoutSQL = "SELECT " + timeoutItem + readOnlyList
)

// configure gives tx the settings every transaction of this executor carries.
func (e *Executor) configure(tx *Tx) {
	tx.appSettings = e.AppSettings
	tx.statementTimeout = e.StatementTimeout
}

// A Waiter bounds a request's waits for a pool connection, as context.WithTimeout(ctx, AcquireTimeout) would,
// without allocating a context and a timer for each (the server keeps one per request state).
type Waiter interface {
	// Wait begins a wait of at most timeout and returns its context: done when the time is up
	// (context.DeadlineExceeded) or when the request's context is done.
	Wait(timeout time.Duration) context.Context
	// Waited ends the wait begun last.
	Waited()
}

// An Interrupter stops a request's exchange in PostgreSQL once the request has ended early (the client went away,
// server-request-timeout, shutdown): the exchange runs between Begin and End, and when the request's context is
// done meanwhile, the interrupter calls h.HandleCancel (a cancel request for the running statement, a deadline on
// the socket); End then calls h.HandleUnwatchAfterCancel, which waits for that to finish, before the connection
// goes back to the pool. That is what pgconn does when it watches a context, which costs a channel and a few
// closures per exchange; an interrupter is set up once per request state. Begin reports false when the request
// has ended already (nothing is sent then).
type Interrupter interface {
	Begin(h ctxwatch.Handler) bool
	End()
}

// acquire takes a connection under the configured deadline (w, when set, bounds the wait). A request whose own
// context ended while it waited gets PostgREST's 504 when the request timed out, and a 503 naming the cause
// otherwise (shutdown, client gone).
func (e *Executor) acquire(ctx context.Context, w Waiter) (*pgxpool.Conn, error) {
	var actx context.Context
	if w != nil {
		actx = w.Wait(e.AcquireTimeout)
		defer w.Waited()
	} else {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, e.AcquireTimeout)
		defer cancel()
	}
	conn, err := e.Pool.Acquire(actx)
	if err == nil {
		return conn, nil
	}
	timedOut := errors.Is(err, context.DeadlineExceeded)
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if timedOut = errors.Is(cause, context.DeadlineExceeded); !timedOut {
			ce := ConnError(cause)
			ce.Details = cause.Error() // pgway's own words: shutting down, or the client went away
			return nil, ce
		}
	}
	if timedOut {
		return nil, apierr.New(http.StatusGatewayTimeout, "PGRST003", "Timed out acquiring connection from connection pool.").
			WithHint("").WithDetails("")
	}
	return nil, ConnError(err)
}

// canceled is the error of a request whose context ended while its statements ran but whose connection did
// not report PostgreSQL's own 57014 (the context ended between two round trips, or the connection was cut
// after the cancel request went unanswered): the error PostgreSQL sends for a cancel request.
func canceled() error {
	return &pgconn.PgError{Severity: "ERROR", Code: "57014", Message: "canceling statement due to user request"}
}

// settle maps the error of an exchange whose request context has ended to canceled, unless PostgreSQL
// reported an error of its own.
func settle(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return err
	}
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Err == nil {
		return err // pgway's own error (an acquire timeout, a client error)
	}
	return canceled()
}

// ConnError is PostgREST's 503 for a database that cannot be used: PGRST000 when no connection could be made
// (an incorrect db-uri, PostgreSQL not running or refusing the authenticator), PGRST001 when an established one
// failed. PostgREST's details are libpq's message, which names the host, port, user and database; these details
// say only what kind of failure it was, and the full error stays in Err for the server's log.
func ConnError(err error) *apierr.Error {
	e := apierr.New(http.StatusServiceUnavailable, "PGRST001", "Database client error. Retrying the connection.")
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		e = apierr.New(http.StatusServiceUnavailable, "PGRST000",
			"Database connection error. Retrying the connection.")
	}
	e.Details = connFailure(err)
	e.Err = err
	return e
}

// connFailure describes a connection failure without naming the server, its address or the role.
func connFailure(err error) string {
	var pe *pgconn.PgError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		// The server refused the session: 28P01 (authentication), 3D000 (no such database), 53300 (too many
		// connections), 57P03 (starting up)…; its message names the role or database.
		return "The database server refused the connection (SQLSTATE " + pe.Code + ")."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused: is the database server running and accepting connections?"
	case errors.As(err, &dns):
		return "The database server's host name could not be resolved."
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "Timed out connecting to the database server."
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "The database server closed the connection."
	}
	return "Could not connect to the database server."
}

// wrap keeps apierr and PostgreSQL errors as they are and marks connection failures as PGRST001.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apierr.Error
	var pe *pgconn.PgError
	if errors.As(err, &ae) || errors.As(err, &pe) {
		return err
	}
	if pgconn.SafeToRetry(err) || isConnErr(err) {
		return ConnError(err)
	}
	return fmt.Errorf("running statement: %w", err)
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.Is(err, pgx.ErrTxClosed)
}
