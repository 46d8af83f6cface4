package dbexec

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// LSN is a position in PostgreSQL's write-ahead log (pg_lsn), for read-your-writes across read replicas: a
// replica whose replay position (pg_last_wal_replay_lsn) has reached a write's commit LSN sees that write.
type LSN uint64

// ParseLSN reads pg_lsn's text form, two hexadecimal halves ("16/B374D848").
func ParseLSN(s string) (LSN, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return LSN(h<<32 | l), true
}

// String is pg_lsn's text form.
func (l LSN) String() string { return string(l.AppendText(nil)) }

// AppendText appends pg_lsn's text form to b.
func (l LSN) AppendText(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(l)>>32, 16)
	b = append(b, '/')
	return strconv.AppendUint(b, uint64(l)&0xffffffff, 16)
}

// commitLSNSQL reads, after a write's transaction committed, where the WAL ends: at or past the end of its commit
// record. It runs after the Sync that commits, in the same round trip, in a transaction of its own.
const commitLSNSQL = "SELECT pg_current_wal_insert_lsn()"

// walPage and shortPageHeader: the insert position at the start of a WAL page is reported past the page's
// header, where the end of the record that filled the page before it (what a replica's replay position reaches)
// is the page boundary.
const walPage, shortPageHeader = 8192, 24

// commitLSN is what commitLSNSQL returned, as a replica's replay position will reach it (0: unknown).
func commitLSN(v []byte) LSN {
	l, ok := ParseLSN(string(v))
	if !ok {
		return 0
	}
	if l%walPage == shortPageHeader {
		l -= shortPageHeader // right after a page header: everything before the boundary was written
	}
	return l
}

// sendCommitLSN queues commitLSNSQL and its own Sync after the exchange's Sync.
func sendCommitLSN(p *pgconn.Pipeline) {
	p.SendQueryParams(commitLSNSQL, nil, nil, nil, nil)
	p.SendPipelineSync()
}

// readCommitLSN reads what sendCommitLSN queued into dst. The write has committed: a failure here only leaves
// the position unknown (0), and a broken connection is dropped by the pool.
func readCommitLSN(p *pgconn.Pipeline, dst *LSN) {
	*dst = 0
	res, err := p.GetResults()
	rr, ok := res.(*pgconn.ResultReader)
	if err != nil || !ok {
		return
	}
	var l LSN
	for rr.NextRow() {
		l = commitLSN(rr.Values()[0])
	}
	if _, err := rr.Close(); err == nil {
		*dst = l
	}
}

// commitReadingLSN commits an explicit transaction and reads commitLSNSQL in the same round trip (the streamed
// write's path); dst is left 0 when the position could not be read after a successful COMMIT.
func commitReadingLSN(ctx context.Context, pc *pgconn.PgConn, dst *LSN) error {
	*dst = 0
	results, err := pc.Exec(ctx, "COMMIT; "+commitLSNSQL).ReadAll()
	if len(results) == 0 || results[0].Err != nil {
		if len(results) > 0 {
			return results[0].Err
		}
		return err
	}
	if len(results) > 1 && results[1].Err == nil && len(results[1].Rows) == 1 {
		*dst = commitLSN(results[1].Rows[0][0])
	}
	return nil
}
