package dbexec

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// Sink receives what a request's main statement produces, as it arrives: the body of a one-row statement (or
// each line of a text plan), or each row of a statement rendered row by row. Bytes are valid only during the
// call.
type Sink interface {
	// Body receives a one-row statement's body, or one line of an EXPLAIN.
	Body(b []byte) error
	// Row receives one row of a statement rendered row by row; total is the result's count (-1 when not
	// counted). A counted empty result calls Row once with row nil.
	Row(total int64, row []byte) error
	// Reset drops what was received: the exchange runs again on another connection.
	Reset()
	// Emitted reports whether output has reached the client: from then on the exchange never runs again.
	Emitted() bool
}

// Result is what a request's statements reported besides the body.
type Result struct {
	Total     int64 // the count asked for (-1: none)
	PageTotal int64 // rows of the page (reads), affected rows (writes)
	Estimate  int64 // the planner's row estimate (-1: not asked)
	// Location is an inserted row's primary key as a JSON array of [column, value] pairs (nil if none).
	Location []byte
	Inserted int64 // rows inserted rather than updated by an upsert (-1: not tracked)
	// GUC are the response.headers and response.status the statements left (when asked for in Tx.Response).
	GUC GUCResponse
}

// Run runs st in one transaction and, where it can, one round trip: the per-request settings, the
// db-pre-request function, the estimate, the main statement, the response GUCs and the closing check. The
// main statement's output goes to sink as it arrives; the rest of what the statements report goes to res,
// which sink may read while it receives (the estimate is known before the main statement's rows).
func (e *Executor) Run(ctx context.Context, tx Tx, st sqlgen.Statements, sink Sink, res *Result) error {
	*res = Result{Total: -1, Estimate: -1, Inserted: -1}
	if st.StreamBody != nil {
		return e.runCopy(ctx, tx, st, sink, res)
	}
	queries := make([]Query, 0, 3)
	if st.Estimate != nil {
		queries = append(queries, Query{SQL: st.Estimate.SQL, Args: st.Estimate.Args})
	}
	main := Query{SQL: st.Main.SQL, Args: st.Main.Args, Prepare: !st.Explain, binaryBody: st.BinaryBody}
	mainIdx := len(queries)
	queries = append(queries, main)
	if st.Check != "" {
		queries = append(queries, Query{SQL: st.Check, final: true})
	}
	tx.responseInMain = st.GUCColumns && !st.ReadGUCsAfter
	if tx.Response == nil && st.GUCColumns {
		tx.Response = &GUCResponse{}
	}
	err := e.exchange(ctx, tx, queries, sink, func(i int, rr *pgconn.ResultReader) error {
		switch {
		case i < mainIdx:
			for rr.NextRow() {
				res.Estimate = planRows(rr.Values()[0])
			}
			return nil
		case i > mainIdx:
			return nil
		case st.Explain:
			for rr.NextRow() {
				if err := sink.Body(rr.Values()[0]); err != nil {
					return err
				}
			}
			return nil
		case st.Rows != nil:
			return readRows(rr, sink, res)
		}
		return readOne(rr, sink, res, tx.Response)
	})
	if tx.Response != nil {
		res.GUC = *tx.Response
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == sqlgen.RollbackCode {
			return nil // rolled back on request after the result was read
		}
	}
	return err
}

// columns are the positions of a main statement's named result columns (-1: absent).
type columns struct {
	total, pageTotal, body, row, location, inserted, gucHeaders, gucStatus int
}

// columnsOf finds the named columns of a result.
func columnsOf(fds []pgconn.FieldDescription) columns {
	c := columns{-1, -1, -1, -1, -1, -1, -1, -1}
	for i := range fds {
		switch fds[i].Name {
		case "total":
			c.total = i
		case "page_total":
			c.pageTotal = i
		case "body":
			c.body = i
		case "row":
			c.row = i
		case "location":
			c.location = i
		case "inserted":
			c.inserted = i
		case "response_headers":
			c.gucHeaders = i
		case "response_status":
			c.gucStatus = i
		}
	}
	return c
}

// readRows hands each row of a statement rendered row by row to sink and counts them.
func readRows(rr *pgconn.ResultReader, sink Sink, res *Result) error {
	c := columnsOf(rr.FieldDescriptions())
	if c.row < 0 || c.total < 0 {
		return fmt.Errorf("read returned no row/total columns")
	}
	total := int64(-1)
	first := true
	res.PageTotal = 0
	for rr.NextRow() {
		vals := rr.Values()
		if first {
			first = false
			if v := vals[c.total]; v != nil {
				n, err := parseInt(v, 0)
				if err != nil {
					return err
				}
				total = n
			}
			res.Total = total
		}
		row := vals[c.row]
		if row != nil {
			res.PageTotal++
		}
		if err := sink.Row(total, row); err != nil {
			return err
		}
	}
	return nil
}

// readOne decodes the one row of a one-row statement, handing its body to sink.
func readOne(rr *pgconn.ResultReader, sink Sink, res *Result, guc *GUCResponse) error {
	fds := rr.FieldDescriptions()
	c := columnsOf(fds)
	for rr.NextRow() {
		vals := rr.Values()
		var err error
		if c.total >= 0 && vals[c.total] != nil {
			if res.Total, err = parseInt(vals[c.total], fds[c.total].Format); err != nil {
				return err
			}
		}
		if c.pageTotal >= 0 {
			if res.PageTotal, err = parseInt(vals[c.pageTotal], fds[c.pageTotal].Format); err != nil {
				return err
			}
		}
		if c.location >= 0 && vals[c.location] != nil {
			res.Location = append([]byte(nil), vals[c.location]...)
		}
		if c.inserted >= 0 && vals[c.inserted] != nil {
			if res.Inserted, err = parseInt(vals[c.inserted], fds[c.inserted].Format); err != nil {
				return err
			}
		}
		if c.gucHeaders >= 0 && c.gucStatus >= 0 {
			guc.take(vals[c.gucHeaders], vals[c.gucStatus])
		}
		if c.body >= 0 {
			if err := sink.Body(vals[c.body]); err != nil {
				return err
			}
		}
	}
	return nil
}
