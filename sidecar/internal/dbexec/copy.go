package dbexec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// StreamTable is the per-connection temporary table a large write body is copied into; the statement reads it
// instead of a bound parameter (plan.Mutate.StreamBody).
const StreamTable = sqlgen.StreamTable

const prepareStreamSQL = "CREATE TEMP TABLE IF NOT EXISTS pgway_body (body text) ON COMMIT DELETE ROWS; " +
	"GRANT SELECT, INSERT ON pg_temp.pgway_body TO PUBLIC"

// rollbackWait bounds the ROLLBACK that leaves a failed streamed write's connection clean.
const rollbackWait = 5 * time.Second

// copyHeader and copyTrailer frame one row of one field in COPY's binary format.
var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

// runCopy runs a write whose body is large (Statements.StreamBody): the body — the request's buffer, never
// copied — is streamed with COPY (binary) into a temporary table that Main reads, all in one explicit
// transaction. It takes a few round trips instead of one, so it is used only above a size threshold.
func (e *Executor) runCopy(ctx context.Context, tx Tx, st sqlgen.Statements, sink Sink, res *Result) error {
	body := st.StreamBody
	conn, err := e.acquire(ctx, tx.Waiter)
	if err != nil {
		return err
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	e.configure(&tx)
	guc := tx.Response
	if guc == nil {
		guc = &GUCResponse{}
	}
	run := func() error {
		begin := tx.begin() // an isolation level (the role's or the function's), else the session's default
		if begin == "" {
			begin = "BEGIN"
		}
		if err := pc.Exec(ctx, begin+"; "+prepareStreamSQL).Close(); err != nil {
			return err
		}
		settings, vals := tx.settings(nil)
		if err := pc.ExecParams(ctx, settings, vals, nil, nil, nil).Read().Err; err != nil {
			return err
		}
		if e.PreRequest != "" {
			if err := pc.ExecParams(ctx, "SELECT "+e.PreRequest+"()", nil, nil, nil, nil).Read().Err; err != nil {
				return err
			}
		}
		var row [6]byte
		binary.BigEndian.PutUint16(row[0:2], 1)
		binary.BigEndian.PutUint32(row[2:6], uint32(len(body)))
		r := ioMultiReader(copyHeader, row[:], body, copyTrailer)
		if _, err := pc.CopyFrom(ctx, r, "COPY "+StreamTable+" (body) FROM STDIN (FORMAT binary)"); err != nil {
			return err
		}
		args, err := encodeArgs(nil, st.Main.Args)
		if err != nil {
			return err
		}
		rr := pc.ExecParams(ctx, st.Main.SQL, args, nil, nil, nil)
		if err := readOne(rr, sink, res, guc); err != nil {
			_, _ = rr.Close()
			return err
		}
		if _, err := rr.Close(); err != nil {
			return err
		}
		if st.ReadGUCsAfter {
			rr := pc.ExecParams(ctx, gucResponseSQL, nil, nil, nil, nil)
			for rr.NextRow() {
				v := rr.Values()
				guc.take(v[0], v[1])
			}
			if _, err := rr.Close(); err != nil {
				return err
			}
		}
		if st.Check != "" {
			if err := pc.Exec(ctx, st.Check).Close(); err != nil {
				return err
			}
		}
		if tx.CommitLSN != nil {
			return commitReadingLSN(ctx, pc, tx.CommitLSN)
		}
		return pc.Exec(ctx, "COMMIT").Close()
	}
	err = run()
	res.GUC = *guc
	if err != nil {
		// Leave the connection clean (also when ctx has ended, within rollbackWait); a broken one is closed and
		// dropped by the pool.
		if !pc.IsClosed() {
			rctx, cancel := context.WithTimeout(context.Background(), rollbackWait)
			_ = pc.Exec(rctx, "ROLLBACK").Close()
			cancel()
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == sqlgen.RollbackCode {
			err = nil
		}
	}
	if err != nil {
		return wrap(settle(ctx, fmt.Errorf("streamed write: %w", err)))
	}
	return nil
}

func ioMultiReader(parts ...[]byte) io.Reader {
	rs := make([]io.Reader, len(parts))
	for i, p := range parts {
		rs[i] = bytes.NewReader(p)
	}
	return io.MultiReader(rs...)
}
