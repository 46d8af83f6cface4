package dbexec

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// WriteResult is the main row of a write.
type WriteResult struct {
	PageTotal int64
	// Location is the JSON array of [column, value] pairs of an inserted row's primary key (nil if none).
	Location []byte
	Body     []byte
	// Inserted counts rows inserted rather than updated by an upsert (-1 when not tracked).
	Inserted int64
}

// Write runs a write and its check in one round trip and one transaction, then hands fn the result: only once
// the transaction has committed (or was rolled back on request), so a failed check leaves nothing written and
// nothing in the response.
func (e *Executor) Write(ctx context.Context, tx Tx, st sqlgen.Mutate, fn func(WriteResult) error) error {
	queries := []Query{{SQL: st.Main.SQL, Args: st.Main.Args, Prepare: true}}
	if st.Check != "" {
		queries = append(queries, Query{SQL: st.Check, final: true})
	}
	res := WriteResult{Inserted: -1}
	tx.responseInMain = !st.ReadGUCsAfter
	err := e.exchange(ctx, tx, queries, nil, func(i int, rr *pgconn.ResultReader) error {
		if i > 0 {
			return nil
		}
		for rr.NextRow() {
			vals := rr.Values()
			if len(vals) < 6 {
				return fmt.Errorf("write returned %d columns", len(vals))
			}
			var err error
			if res.PageTotal, err = parseInt(vals[0], 0); err != nil {
				return err
			}
			if vals[1] != nil {
				res.Location = append([]byte(nil), vals[1]...)
			}
			res.Body = append([]byte(nil), vals[2]...)
			if vals[3] != nil {
				if res.Inserted, err = parseInt(vals[3], 0); err != nil {
					return err
				}
			}
			tx.Response.take(vals[4:])
		}
		return nil
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlgen.RollbackCode {
		err = nil
	}
	if err != nil {
		return err
	}
	return fn(res)
}
