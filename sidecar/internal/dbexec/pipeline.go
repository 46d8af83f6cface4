package dbexec

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Query is one statement of a pipelined exchange.
type Query struct {
	SQL string
	// Args are strings (or pointers to strings, read when the exchange is sent) and int64s, sent as untyped text so
	// PostgreSQL infers each type from its context.
	Args []any
	// Prepare caches the statement per connection (Parse once, then only Bind/Execute). Use it for statements
	// whose text repeats; leave it off for one-offs such as EXPLAIN.
	Prepare bool
	// binaryBody asks for every result column in binary format (the body is a media type domain's raw value;
	// the other columns decode from binary too).
	binaryBody bool
	// final marks a closing check (the DO block that may roll back): the response GUCs are read before it.
	final bool
	// commit marks the COMMIT closing an explicit transaction: once every statement before it has completed,
	// the exchange is settled, as it is before the Sync that commits an implicit one.
	commit bool
}

// maxPrepared bounds the named statements one connection keeps; past it they are all deallocated.
const maxPrepared = 1000

// stmtCache maps SQL text to the statement prepared for it on one connection (its name and result columns, so
// that executing it needs no Describe). A pooled connection is used by one request at a time, so it needs no
// lock. generation is the schema generation the statements were prepared under: a schema reload may change a
// statement's result types under the same text, so the cache is dropped when it changes.
type stmtCache struct {
	stmts      map[string]*pgconn.StatementDescription
	next       int
	generation uint64
	// cancel is the connection's handler of an interrupted exchange (Interrupter), built on first use.
	cancel ctxwatch.Handler
}

// binaryFormats asks for every result column in binary.
var binaryFormats = []int16{1}

const stmtCacheKey = "pgway.stmts"

// stmtsOf is pc's statement cache; reused reports whether pc ran an exchange before (false: a new connection).
func stmtsOf(pc *pgconn.PgConn) (sc *stmtCache, reused bool) {
	data := pc.CustomData()
	if sc, ok := data[stmtCacheKey].(*stmtCache); ok {
		return sc, true
	}
	sc = &stmtCache{stmts: map[string]*pgconn.StatementDescription{}}
	data[stmtCacheKey] = sc
	return sc, false
}

// exchange runs the request's settings and then queries in one round trip: a single pipeline closed by one Sync,
// so PostgreSQL runs them as one implicit transaction (all or nothing) and parses every statement after the role
// and search_path are set. handle sees each query's result in order.
//
// An attempt that fails because its connection died (a pooled connection the server has since closed, a
// backend ended by pg_terminate_backend, a failover) runs again on another connection when that is safe (see
// retryable), up to the pool's size + 1 times, so that a pool full of dead connections still reaches a fresh
// one. emitted, when not nil, is set by the caller's handle once it has produced output: from then on nothing
// runs again.
func (e *Executor) exchange(ctx context.Context, tx Tx, queries []Query, sink Sink, handle func(i int, rr *pgconn.ResultReader) error) error {
	attempts := 1
	for attempt := 1; ; attempt++ {
		var pr progress
		err := e.exchangeOnce(ctx, tx, queries, &pr, handle)
		if err == nil {
			return nil
		}
		pr.emitted = sink != nil && sink.Emitted()
		if tx.ReadOnly && pr.settled && (pr.lost || sessionEnded(err)) {
			// Every result was read when the session ended, before the Sync: a read-only transaction has
			// nothing to commit, so the read stands.
			return nil
		}
		if !retryable(ctx, err, tx.ReadOnly, pr) {
			return err
		}
		if attempt == 1 {
			attempts = int(e.Pool.Stat().MaxConns()) + 1
		}
		if attempt >= attempts {
			return err
		}
		if tx.Response != nil {
			*tx.Response = GUCResponse{} // what the failed attempt read
		}
		if sink != nil {
			sink.Reset()
		}
	}
}

// progress is how far one attempt of an exchange got, which decides whether it may run again.
type progress struct {
	// acquired: a connection was had; lost: it was closed under the exchange (EOF, reset, FATAL).
	acquired, lost bool
	// reused: the connection had served requests before (it may have died while idle in the pool).
	reused bool
	// settled: every statement's result was read, only the Sync (where the transaction commits) was not.
	settled bool
	// emitted: the caller has produced output.
	emitted bool
}

// retryable reports whether an attempt that failed with err may run again on another connection. Never once
// the caller produced output or the request's context ended; always when nothing was sent. When the server
// ended the session (57P01 admin shutdown or pg_terminate_backend, 57P02 crash of another backend, 57P03), a
// read-only transaction may run again, and a write only if the session ended before every statement had
// completed (otherwise it may have committed at the Sync). A connection lost without a word from the server
// (EOF, reset) is retried only for a read-only transaction on a connection that came from the pool, which may
// have died while idle: one that was opened for this attempt and died under it may have been killed by the
// statement itself (a backend crash), which must not be repeated.
func retryable(ctx context.Context, err error, readOnly bool, pr progress) bool {
	if pr.emitted || ctx.Err() != nil {
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return sessionEnded(err) && (readOnly || !pr.settled)
	}
	return readOnly && pr.acquired && pr.lost && pr.reused
}

// sessionEnded reports whether err is the server ending the session: 57P01 (admin shutdown,
// pg_terminate_backend), 57P02 (crash of another backend), 57P03 (cannot connect now).
func sessionEnded(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03")
}

func (e *Executor) exchangeOnce(ctx context.Context, tx Tx, queries []Query, pr *progress, handle func(i int, rr *pgconn.ResultReader) error) error {
	conn, err := e.acquire(ctx, tx.Waiter)
	if err != nil {
		return err
	}
	defer conn.Release()
	pr.acquired = true
	if e.PreRequest != "" {
		// db-pre-request runs after the settings and before the request's statements, in the same transaction.
		all := make([]Query, 0, len(queries)+1)
		all = append(all, Query{SQL: "SELECT " + e.PreRequest + "()", Prepare: true})
		queries = append(all, queries...)
		inner := handle
		handle = func(i int, rr *pgconn.ResultReader) error {
			if i == 0 {
				return nil
			}
			return inner(i-1, rr)
		}
	}
	e.configure(&tx)
	if g := tx.Response; g != nil && !tx.responseInMain {
		// Read them after the statements and before a closing check, which may end the pipeline with the
		// rollback sentinel (Prefer: tx=rollback keeps the headers a function set, as PostgREST).
		at := len(queries)
		if at > 0 && queries[at-1].final {
			at--
		}
		withGUC := make([]Query, 0, len(queries)+1)
		withGUC = append(withGUC, queries[:at]...)
		withGUC = append(withGUC, Query{SQL: gucResponseSQL, Prepare: true})
		queries = append(withGUC, queries[at:]...)
		inner := handle
		handle = func(i int, rr *pgconn.ResultReader) error {
			if i < at {
				return inner(i, rr)
			}
			if i > at {
				return inner(i-1, rr)
			}
			for rr.NextRow() {
				v := rr.Values()
				g.take(v[0], v[1])
			}
			return nil
		}
	}
	pc := conn.Conn().PgConn()
	sc, reused := stmtsOf(pc)
	pr.reused = reused
	xctx := ctx // what pgconn watches
	if tx.Interrupter != nil && e.CancelHandler != nil {
		if sc.cancel == nil {
			sc.cancel = e.CancelHandler(pc)
		}
		if !tx.Interrupter.Begin(sc.cancel) {
			return wrap(settle(ctx, ctx.Err()))
		}
		defer tx.Interrupter.End()
		xctx = context.Background()
	}
	err = exchangeOn(xctx, pc, sc, tx, queries, !e.NoPrepare, tx.Generation, pr, handle)
	pr.lost = err != nil && conn.Conn().PgConn().IsClosed()
	if tx.Isolation != IsolationDefault && !pc.IsClosed() && pc.TxStatus() != 'I' {
		// An explicit transaction that failed (or was rolled back on request) stays open after the Sync: end it,
		// so that the connection goes back to the pool clean (a broken one is closed and dropped by the pool).
		rctx, cancel := context.WithTimeout(context.Background(), rollbackWait)
		_ = pc.Exec(rctx, "ROLLBACK").Close()
		cancel()
	}
	return wrap(settle(ctx, err))
}

// exchangeOn runs queries in one pipeline on conn; with prepare false no named statement is created (db-prepared-statements
// off, for transaction-pooling proxies such as PgBouncer).
func exchangeOn(ctx context.Context, pc *pgconn.PgConn, sc *stmtCache, tx Tx, queries []Query, prepare bool, generation uint64, pr *progress, handle func(i int, rr *pgconn.ResultReader) error) error {

	var setBuf [16][]byte
	settings, setVals := tx.settings(setBuf[:0])
	dealloc := prepare && (len(sc.stmts) >= maxPrepared || sc.generation != generation && len(sc.stmts) > 0)
	sc.generation = generation
	// The settings statement is prepared like the others: its text only varies with the configuration. It is
	// queries[at] (after the BEGIN of an explicit transaction); its arguments are setVals.
	var queryBuf [6]Query // an explicit transaction's BEGIN and COMMIT may need more: those requests alone allocate
	at := 0
	inner := handle
	if begin := tx.begin(); begin != "" {
		// An isolation level: the exchange is an explicit transaction, begun before any statement takes a
		// snapshot and committed before the Sync (the server skips the COMMIT after an error).
		// A DEALLOCATE ALL goes after it (it takes a snapshot); BEGIN is not prepared then, or it would go too.
		n := len(queries)
		queries = append(append(append(queryBuf[:0], Query{SQL: begin, Prepare: !dealloc}, Query{SQL: settings, Prepare: true}),
			queries...), Query{SQL: commitSQL, Prepare: true, commit: true})
		at = 1
		handle = func(i int, rr *pgconn.ResultReader) error {
			if i <= 1 || i > n+1 {
				return nil // BEGIN, the settings, COMMIT
			}
			return inner(i-2, rr)
		}
	} else {
		queries = append(append(queryBuf[:0], Query{SQL: settings, Prepare: true}), queries...)
		handle = func(i int, rr *pgconn.ResultReader) error {
			if i == 0 {
				return nil
			}
			return inner(i-1, rr)
		}
	}
	if pr.reused && tx.ReadOnly && !dealloc && sc.prepared(queries, prepare) {
		return exchangeBatch(ctx, pc, sc, queries, at, setVals, prepare, pr, handle)
	}

	p := pc.StartPipeline(ctx)
	deallocAt := -1 // DEALLOCATE ALL goes before queries[deallocAt], the settings statement
	if dealloc {
		deallocAt = at
		clear(sc.stmts)
	}
	// fresh[i] is the statement name queries[i] prepares in this pipeline ("" if none).
	var freshBuf [8]string
	fresh := freshBuf[:0]
	if len(queries) > len(freshBuf) {
		fresh = make([]string, 0, len(queries))
	}
	fresh = fresh[:len(queries)]
	var args argBuf
	for i, q := range queries {
		if i == deallocAt {
			p.SendQueryParams("DEALLOCATE ALL", nil, nil, nil, nil)
		}
		vals, err := setVals, error(nil)
		if i != at {
			vals, err = encodeArgs(&args, q.Args)
		}
		if err != nil {
			_ = p.Close()
			return err
		}
		formats := q.resultFormats()
		if !q.Prepare || !prepare {
			p.SendQueryParams(q.SQL, vals, nil, nil, formats)
			continue
		}
		if sd, ok := sc.stmts[q.SQL]; ok {
			p.SendQueryStatement(sd, vals, nil, formats)
			continue
		}
		sc.next++
		name := "pgway_" + strconv.Itoa(sc.next)
		p.SendPrepare(name, q.SQL, nil)
		fresh[i] = name
		p.SendQueryPrepared(name, vals, nil, formats)
	}
	p.SendPipelineSync()
	lsn := tx.CommitLSN != nil && !tx.ReadOnly
	if lsn {
		sendCommitLSN(p)
	}
	if err := p.Flush(); err != nil {
		_ = p.Close()
		return err
	}

	err := readPipeline(p, sc, deallocAt, queries, fresh, pr, handle)
	if err == nil && lsn {
		readCommitLSN(p, tx.CommitLSN) // committed: what follows cannot fail the write
		_ = p.Close()
		return nil
	}
	if cerr := p.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// resultFormats asks for binary results when q's body is a media type domain's raw value (nil: text).
func (q *Query) resultFormats() []int16 {
	if q.binaryBody {
		return binaryFormats
	}
	return nil
}

// prepared reports whether every statement of queries that is to be prepared already is, on this connection.
func (sc *stmtCache) prepared(queries []Query, prepare bool) bool {
	if !prepare {
		return true
	}
	for i := range queries {
		if _, ok := sc.stmts[queries[i].SQL]; queries[i].Prepare && !ok {
			return false
		}
	}
	return true
}

// exchangeBatch runs queries, whose statements are all prepared on the connection already (or are not to be),
// as a pgconn batch: the same messages as the pipeline (Bind, Execute, one Sync at the end), written as one
// buffer. pgconn's Pipeline keeps its request queues in container/lists of boxed values, which costs a dozen
// allocations per exchange; a batch costs a few. A batch's failed write is never marked safe to retry, so
// exchangeOn uses it only where that makes no difference: for read-only transactions on a connection that served
// before, which retryable retries whenever the connection was lost.
func exchangeBatch(ctx context.Context, pc *pgconn.PgConn, sc *stmtCache, queries []Query, settingsAt int, setVals [][]byte, prepare bool,
	pr *progress, handle func(int, *pgconn.ResultReader) error) error {
	var b pgconn.Batch
	var args argBuf
	for i := range queries {
		q := &queries[i]
		vals, err := setVals, error(nil)
		if i != settingsAt {
			vals, err = encodeArgs(&args, q.Args)
		}
		if err != nil {
			return err
		}
		if q.Prepare && prepare {
			b.ExecStatement(sc.stmts[q.SQL], vals, nil, q.resultFormats())
		} else {
			b.ExecParams(q.SQL, vals, nil, nil, q.resultFormats())
		}
	}
	mrr := pc.ExecBatch(ctx, &b)
	err := readBatch(mrr, queries, pr, handle)
	if cerr := mrr.Close(); err == nil {
		err = cerr
	}
	return err
}

// readBatch consumes a batch's results in order, as readPipeline does; the first error ends it (the caller's
// Close of mrr drains the rest and reports an error that ended the batch early).
func readBatch(mrr *pgconn.MultiResultReader, queries []Query, pr *progress, handle func(int, *pgconn.ResultReader) error) error {
	n := len(queries)
	for i := range n {
		if queries[i].commit {
			pr.settled = true
		}
		if !mrr.NextResult() {
			if err := mrr.Close(); err != nil {
				return err
			}
			return fmt.Errorf("batch: %d results for %d statements", i, n)
		}
		rr := mrr.ResultReader()
		herr := handle(i, rr)
		if _, err := rr.Close(); err != nil {
			return err
		}
		if herr != nil {
			return herr
		}
	}
	pr.settled = true
	return nil
}

// readPipeline consumes the results in the order they were sent, a DEALLOCATE ALL's before queries[deallocAt]
// (-1: none); the first error ends it (the server skipped everything after it up to the Sync, and Close drains
// what is left).
func readPipeline(p *pgconn.Pipeline, sc *stmtCache, deallocAt int, queries []Query, fresh []string, pr *progress, handle func(int, *pgconn.ResultReader) error) error {
	next := func() (*pgconn.ResultReader, error) {
		res, err := p.GetResults()
		if err != nil {
			return nil, err
		}
		rr, ok := res.(*pgconn.ResultReader)
		if !ok {
			return nil, fmt.Errorf("pipeline: unexpected result %T", res)
		}
		return rr, nil
	}
	discard := func() error {
		rr, err := next()
		if err != nil {
			return err
		}
		_, err = rr.Close()
		return err
	}
	for i := range queries {
		if i == deallocAt {
			if err := discard(); err != nil {
				return err
			}
		}
		if queries[i].commit {
			pr.settled = true
		}
		if fresh[i] != "" {
			res, err := p.GetResults()
			if err != nil {
				return err
			}
			sd, ok := res.(*pgconn.StatementDescription)
			if !ok {
				return fmt.Errorf("pipeline: unexpected result %T for prepare", res)
			}
			sd.Name, sd.SQL = fresh[i], queries[i].SQL // the pipeline's description leaves them out
			sc.stmts[queries[i].SQL] = sd
		}
		rr, err := next()
		if err != nil {
			return err
		}
		herr := handle(i, rr)
		if _, err := rr.Close(); err != nil {
			return err
		}
		if herr != nil {
			// The server goes on preparing the statements after this one: record them, so that none stays
			// prepared on the connection unknown to the cache (a new name would be prepared for it next time).
			for j := i + 1; j < len(queries); j++ {
				if j == deallocAt && discard() != nil {
					break
				}
				if fresh[j] != "" {
					res, err := p.GetResults()
					sd, ok := res.(*pgconn.StatementDescription)
					if err != nil || !ok {
						break
					}
					sd.Name, sd.SQL = fresh[j], queries[j].SQL
					sc.stmts[queries[j].SQL] = sd
				}
				if discard() != nil {
					break
				}
			}
			return herr
		}
	}
	pr.settled = true
	res, err := p.GetResults()
	if err != nil {
		return err
	}
	if _, ok := res.(*pgconn.PipelineSync); !ok {
		return fmt.Errorf("pipeline: expected sync, got %T", res)
	}
	return nil
}

// values are the settings statement's arguments, appended to vals[:0].
func (t *Tx) values(vals [][]byte) [][]byte {
	claims, headers, cookies := t.Claims, t.Headers, t.Cookies
	if claims == "" {
		claims = "{}"
	}
	if headers == "" {
		headers = "{}"
	}
	if cookies == "" {
		cookies = "{}"
	}
	return append(vals[:0], s2b(t.SearchPath), s2b(t.Role), s2b(claims), s2b(t.Method), s2b(t.Path), s2b(headers),
		s2b(cookies))
}

// s2b views s as bytes without copying; pgconn only reads arguments while it encodes them.
func s2b(s string) []byte {
	if s == "" {
		return []byte{} // not nil: nil is SQL NULL
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// argBuf is room for one statement's encoded arguments.
type argBuf [16][]byte

// encodeArgs renders arguments in PostgreSQL's text format, in buf when they fit (nil: allocated); they are valid
// until buf is used again.
func encodeArgs(buf *argBuf, args []any) ([][]byte, error) {
	if len(args) == 0 {
		return nil, nil
	}
	var vals [][]byte
	if buf != nil && len(args) <= len(buf) {
		vals = buf[:len(args)]
	} else {
		vals = make([][]byte, len(args))
	}
	for i, a := range args {
		switch v := a.(type) {
		case string:
			vals[i] = s2b(v)
		case *string:
			vals[i] = s2b(*v)
		case []byte:
			vals[i] = v
		case int64:
			vals[i] = strconv.AppendInt(nil, v, 10)
		case int:
			vals[i] = strconv.AppendInt(nil, int64(v), 10)
		case nil:
			vals[i] = nil
		default:
			return nil, errors.New("dbexec: unsupported argument type " + fmt.Sprintf("%T", a))
		}
	}
	return vals, nil
}

// settings is the statement setting every per-request GUC, and its arguments. The order is PostgREST's, with
// pgway's statement timeout first: statement_timeout, the role's settings (before the role switch: a parameter
// the authenticator was granted with GRANT SET ON PARAMETER may not be settable by the role itself), then
// search_path, role, claims and request GUCs, then app.settings and the time zone. set_config calls in one
// target list run in order, so a later setting of the same name wins.
func (t *Tx) settings(buf [][]byte) (string, [][]byte) {
	base := settingsList
	if t.ReadOnly {
		base = readOnlyList
	}
	vals := t.values(buf)
	extra := t.appSettings
	if t.Timezone != "" {
		extra = append(extra[:len(extra):len(extra)], [2]string{"", t.Timezone})
	}
	if len(extra) == 0 && len(t.RoleSettings) == 0 {
		switch {
		case t.statementTimeout == "" && t.ReadOnly:
			return readOnlySQL, vals
		case t.statementTimeout == "":
			return settingsSQL, vals
		case t.ReadOnly:
			return readOnlyTimeoutSQL, append(vals, s2b(t.statementTimeout))
		}
		return settingsTimeoutSQL, append(vals, s2b(t.statementTimeout))
	}
	var sb strings.Builder
	sb.WriteString("SELECT ")
	if t.statementTimeout != "" {
		vals = append(vals, s2b(t.statementTimeout))
		sb.WriteString(timeoutItem)
	}
	for _, kv := range t.RoleSettings {
		vals = append(vals, s2b(kv[0]), s2b(kv[1]))
		sb.WriteString("set_config($" + strconv.Itoa(len(vals)-1) + ", $" + strconv.Itoa(len(vals)) + ", true), ")
	}
	sb.WriteString(base)
	for _, kv := range extra {
		name := "app.settings." + kv[0]
		if kv[0] == "" {
			name = "timezone"
		}
		vals = append(vals, []byte(name), []byte(kv[1]))
		sb.WriteString(", set_config($" + strconv.Itoa(len(vals)-1) + ", $" + strconv.Itoa(len(vals)) + ", true)")
	}
	return sb.String(), vals
}
