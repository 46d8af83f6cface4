package dbexec

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// BatchOp is one operation of an atomic batch: its own transaction settings (as if it were sent alone: role,
// claims, search_path, request GUCs, the impersonated role's and the called function's settings, time zone), its
// statements, and where its output goes.
type BatchOp struct {
	Tx   Tx
	St   sqlgen.Statements
	Sink Sink
	Res  *Result
}

// Batch is how a batch's transaction runs; what is an operation's own is in its BatchOp.
type Batch struct {
	// ReadOnly runs the whole transaction read-only (every operation is a read): the operations' own ReadOnly
	// must agree, since a transaction cannot go back to read-write.
	ReadOnly bool
	// Isolation, when set, begins the transaction with that level (BEGIN ISOLATION LEVEL …).
	Isolation Isolation
	// Explicit runs the batch as BEGIN … COMMIT (or ROLLBACK): needed when it takes more than one round trip
	// (operations referring to earlier results), for an isolation level, and to roll back. Otherwise the batch
	// is one pipeline closed by one Sync, PostgreSQL's implicit transaction.
	Explicit bool
	// Rollback ends the transaction with ROLLBACK after every operation ran (Prefer: tx=rollback); deferred
	// constraints are checked first, as a commit would.
	Rollback bool
	// Generation, Waiter and Interrupter are as for Tx.
	Generation  uint64
	Waiter      Waiter
	Interrupter Interrupter
}

// BatchError is the failure of one operation of a batch: Op is its index in the batch, -1 when the failure was
// the transaction's end (a deferred constraint or a serialization failure at COMMIT).
type BatchError struct {
	Op  int
	Err error
}

func (e *BatchError) Error() string { return "operation " + strconv.Itoa(e.Op) + ": " + e.Err.Error() }

func (e *BatchError) Unwrap() error { return e.Err }

// BatchStats says how a batch ran.
type BatchStats struct {
	// RoundTrips are the pipelines sent (each closed by one Sync), the ROLLBACK of a failed explicit transaction
	// included.
	RoundTrips int
}

// resetGUCsSQL clears the response GUCs an earlier operation of the batch left, so that each operation's
// response.headers and response.status are its own (as on a connection of its own, they start empty).
const resetGUCsSQL = "SELECT set_config('response.headers', '', true), set_config('response.status', '', true)"

// beginBatchSQL begins a batch's explicit transaction when no isolation level is asked for.
const beginBatchSQL = "BEGIN"

// rollbackBatchSQL ends a batch run with Prefer: tx=rollback; deferred constraints are checked before it.
const (
	immediateSQL     = "SET CONSTRAINTS ALL IMMEDIATE"
	rollbackBatchSQL = "ROLLBACK"
)

// RunBatch runs the operations of an atomic batch in one transaction on one connection, in order, all or
// nothing. next hands it the operations of each round trip, after the results of the previous one have reached
// their sinks (so that the caller may build later operations from them), and says whether they are the last;
// operations are numbered across rounds in the order next returns them. Each round trip is one pipeline closed
// by one Sync: per operation its settings statement, the db-pre-request function, its statements and the
// response GUCs, no round trip of its own. The first failure ends the batch, rolled back, as a *BatchError
// naming the operation; an error next returns ends it too (rolled back) and is returned as it is.
//
// Like Run, the first round trip runs again on another connection when its connection died before anything can
// have been committed (see retryable); later ones never do.
func (e *Executor) RunBatch(ctx context.Context, b Batch, next func() (ops []BatchOp, last bool, err error)) (BatchStats, error) {
	var stats BatchStats
	ops, last, err := next()
	if err != nil {
		return stats, err
	}
	conn, run, err := e.batchFirst(ctx, b, ops, last, &stats)
	if err != nil {
		return stats, err
	}
	defer conn()
	for base := len(ops); !last; base += len(ops) {
		if ops, last, err = next(); err != nil {
			run.rollback(&stats)
			return stats, err
		}
		var pr progress
		if err := run.round(ctx, ops, base, false, last, &pr, &stats); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// batchRun is a batch's connection while it runs.
type batchRun struct {
	e  *Executor
	b  Batch
	pc *pgconn.PgConn
	sc *stmtCache
	// xctx is what pgconn watches (the request's context, or none when the interrupter does).
	xctx context.Context
}

// batchFirst takes a connection and runs the first round trip on it, again on another connection when that is
// safe; it returns the release of the connection and the run for the next round trips.
func (e *Executor) batchFirst(ctx context.Context, b Batch, ops []BatchOp, last bool, stats *BatchStats) (func(), *batchRun, error) {
	attempts := 1
	for attempt := 1; ; attempt++ {
		var pr progress
		release, run, err := e.batchStart(ctx, b, &pr)
		if err == nil {
			if err = run.round(ctx, ops, 0, true, last, &pr, stats); err == nil {
				return release, run, nil
			}
			release()
		}
		for i := range ops {
			pr.emitted = pr.emitted || ops[i].Sink != nil && ops[i].Sink.Emitted()
		}
		var be *BatchError
		cause := err
		if errors.As(err, &be) {
			cause = be.Err
		}
		if !retryable(ctx, cause, b.ReadOnly, pr) {
			return nil, nil, err
		}
		if attempt == 1 {
			attempts = int(e.Pool.Stat().MaxConns()) + 1
		}
		if attempt >= attempts {
			return nil, nil, err
		}
		for i := range ops {
			if ops[i].Sink != nil {
				ops[i].Sink.Reset()
			}
			if g := ops[i].Tx.Response; g != nil {
				*g = GUCResponse{}
			}
		}
	}
}

// batchStart acquires the batch's connection and starts watching the request's context on it.
func (e *Executor) batchStart(ctx context.Context, b Batch, pr *progress) (func(), *batchRun, error) {
	conn, err := e.acquire(ctx, b.Waiter)
	if err != nil {
		return nil, nil, err
	}
	pr.acquired = true
	pc := conn.Conn().PgConn()
	sc, reused := stmtsOf(pc)
	pr.reused = reused
	run := &batchRun{e: e, b: b, pc: pc, sc: sc, xctx: ctx}
	release := conn.Release
	if b.Interrupter != nil && e.CancelHandler != nil {
		if sc.cancel == nil {
			sc.cancel = e.CancelHandler(pc)
		}
		if !b.Interrupter.Begin(sc.cancel) {
			conn.Release()
			return nil, nil, wrap(settle(ctx, ctx.Err()))
		}
		run.xctx = context.Background()
		release = func() {
			b.Interrupter.End()
			conn.Release()
		}
	}
	return release, run, nil
}

// rollback ends a failed explicit transaction, so that the connection goes back to the pool clean (a broken
// one is closed and dropped by the pool).
func (r *batchRun) rollback(stats *BatchStats) {
	if r.pc.IsClosed() || r.pc.TxStatus() == 'I' {
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), rollbackWait)
	_ = r.pc.Exec(rctx, "ROLLBACK").Close()
	cancel()
	stats.RoundTrips++
}

// queryRole is what one query of a round trip is to its operation.
type queryRole uint8

const (
	roleNone     queryRole = iota // BEGIN, settings, pre-request, GUC reset, check, COMMIT: nothing to read
	roleEstimate                  // the planner's estimate
	roleMain                      // the main statement
	roleGUC                       // the response GUCs, read after the main statement
	roleEnd                       // COMMIT or ROLLBACK: the transaction's end
)

// roundQuery places one query of a round trip: its operation (index into the round's ops; -1 for the
// transaction's own statements) and its role.
type roundQuery struct {
	op   int
	role queryRole
}

// round sends ops (numbered from base in the batch) as one pipeline and hands each operation's results to its
// sink; first begins the transaction, last ends it.
func (r *batchRun) round(ctx context.Context, ops []BatchOp, base int, first, last bool, pr *progress, stats *BatchStats) error {
	e, b := r.e, r.b
	prepare := !e.NoPrepare
	queries := make([]Query, 0, 6*len(ops)+4)
	places := make([]roundQuery, 0, cap(queries))
	add := func(q Query, op int, role queryRole) {
		queries = append(queries, q)
		places = append(places, roundQuery{op: op, role: role})
	}
	if first {
		dealloc := prepare && (len(r.sc.stmts) >= maxPrepared || r.sc.generation != b.Generation && len(r.sc.stmts) > 0)
		r.sc.generation = b.Generation
		if b.Explicit {
			begin := beginBatchSQL
			if b.Isolation != IsolationDefault {
				begin = (&Tx{Isolation: b.Isolation, ReadOnly: b.ReadOnly}).begin()
			}
			add(Query{SQL: begin}, -1, roleNone)
		}
		if dealloc {
			// After BEGIN (it takes a snapshot), before anything is prepared.
			clear(r.sc.stmts)
			add(Query{SQL: "DEALLOCATE ALL"}, -1, roleNone)
		}
	}
	for i := range ops {
		op := &ops[i]
		tx := op.Tx
		e.configure(&tx)
		tx.ReadOnly = b.ReadOnly
		if base+i > 0 {
			add(Query{SQL: resetGUCsSQL, Prepare: true}, i, roleNone)
		}
		settings, vals := tx.settings(nil)
		args := make([]any, len(vals))
		for j, v := range vals {
			args[j] = v
		}
		add(Query{SQL: settings, Args: args, Prepare: true}, i, roleNone)
		if e.PreRequest != "" {
			add(Query{SQL: "SELECT " + e.PreRequest + "()", Prepare: true}, i, roleNone)
		}
		st := &op.St
		if st.Estimate != nil {
			add(Query{SQL: st.Estimate.SQL, Args: st.Estimate.Args}, i, roleEstimate)
		}
		add(Query{SQL: st.Main.SQL, Args: st.Main.Args, Prepare: !st.Explain, binaryBody: st.BinaryBody}, i, roleMain)
		if st.GUCColumns && op.Tx.Response == nil {
			op.Tx.Response = &GUCResponse{}
		}
		if op.Tx.Response != nil && !(st.GUCColumns && !st.ReadGUCsAfter) {
			add(Query{SQL: gucResponseSQL, Prepare: true}, i, roleGUC)
		}
		if st.Check != "" {
			add(Query{SQL: st.Check}, i, roleNone)
		}
		*op.Res = Result{Total: -1, Estimate: -1, Inserted: -1}
	}
	if last && b.Explicit {
		if b.Rollback {
			add(Query{SQL: immediateSQL}, -1, roleNone)
			add(Query{SQL: rollbackBatchSQL, commit: true}, -1, roleEnd)
		} else {
			add(Query{SQL: commitSQL, Prepare: true, commit: true}, -1, roleEnd)
		}
	}

	handled, failed := -1, -1
	handle := func(qi int, rr *pgconn.ResultReader) error {
		handled = qi
		err := r.read(ops, places[qi], rr)
		if err == nil {
			_, err = rr.Close()
		}
		if err != nil {
			failed = qi
		}
		return err
	}
	stats.RoundTrips++
	err := r.send(queries, prepare, pr, handle)
	if err == nil {
		return nil
	}
	if b.Explicit {
		r.rollback(stats)
	}
	// The failing query: the one whose results failed, else the one after the last read (its Parse failed, or
	// the connection was lost before it answered); past the last query, the transaction's end (the Sync that
	// commits an implicit one).
	at := failed
	if at < 0 {
		at = handled + 1
	}
	opIdx := -1
	if at < len(places) {
		if p := places[at]; p.op >= 0 {
			opIdx = base + p.op
		} else if p.role != roleEnd && len(ops) > 0 {
			opIdx = base // BEGIN or DEALLOCATE: the round's first operation never ran
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlgen.RollbackCode {
		return nil // cannot happen: batch operations are planned to commit (the batch ends the transaction)
	}
	return &BatchError{Op: opIdx, Err: wrap(settle(ctx, err))}
}

// read hands one query's result to its operation.
func (r *batchRun) read(ops []BatchOp, p roundQuery, rr *pgconn.ResultReader) error {
	if p.op < 0 {
		return nil
	}
	op := &ops[p.op]
	switch p.role {
	case roleEstimate:
		for rr.NextRow() {
			op.Res.Estimate = planRows(rr.Values()[0])
		}
	case roleGUC:
		for rr.NextRow() {
			v := rr.Values()
			op.Tx.Response.take(v[0], v[1])
		}
		op.Res.GUC = *op.Tx.Response
	case roleMain:
		var err error
		switch {
		case op.St.Explain:
			for rr.NextRow() {
				if err = op.Sink.Body(rr.Values()[0]); err != nil {
					break
				}
			}
		case op.St.Rows != nil:
			err = readRows(rr, op.Sink, op.Res)
		default:
			err = readOne(rr, op.Sink, op.Res, op.Tx.Response)
			if op.Tx.Response != nil {
				op.Res.GUC = *op.Tx.Response
			}
		}
		return err
	}
	return nil
}

// send runs queries as one pipeline closed by one Sync on the batch's connection, preparing the statements
// marked so (or finding them prepared), and reads the results in order.
func (r *batchRun) send(queries []Query, prepare bool, pr *progress, handle func(int, *pgconn.ResultReader) error) error {
	p := r.pc.StartPipeline(r.xctx)
	fresh := make([]string, len(queries))
	for i := range queries {
		q := &queries[i]
		vals, err := encodeArgs(nil, q.Args)
		if err != nil {
			_ = p.Close()
			return err
		}
		formats := q.resultFormats()
		if !q.Prepare || !prepare {
			p.SendQueryParams(q.SQL, vals, nil, nil, formats)
			continue
		}
		if sd, ok := r.sc.stmts[q.SQL]; ok {
			p.SendQueryStatement(sd, vals, nil, formats)
			continue
		}
		r.sc.next++
		name := "pgway_" + strconv.Itoa(r.sc.next)
		p.SendPrepare(name, q.SQL, nil)
		fresh[i] = name
		p.SendQueryPrepared(name, vals, nil, formats)
	}
	p.SendPipelineSync()
	if err := p.Flush(); err != nil {
		_ = p.Close()
		return err
	}
	err := readPipeline(p, r.sc, -1, queries, fresh, pr, handle)
	if cerr := p.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil && r.pc.IsClosed() {
		pr.lost = true
	}
	return err
}
