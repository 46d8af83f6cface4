// Command baseline is the benchmark's floor: a hand-written fasthttp + pgxpool server that answers the
// scenarios in bench/scenario with the same per-request settings and SQL as pgway, but with no request
// parsing, planning or SQL building. It reads pgway's PGRST_* environment variables for the few settings it has.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/bench/internal/refsrv"
	"github.com/pgway/pgway/bench/scenario"
)

// settingsSQL is pgway's read-only per-request settings statement (sidecar/internal/dbexec).
const settingsSQL = "SELECT set_config('search_path', $1, true), set_config('role', $2, true), " +
	"set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true), " +
	"set_config('request.path', $5, true), set_config('request.headers', $6, true), " +
	"set_config('request.cookies', $7, true), set_config('transaction_read_only', 'on', true)"

const writeSettingsSQL = "SELECT set_config('search_path', $1, true), set_config('role', $2, true), " +
	"set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true), " +
	"set_config('request.path', $5, true), set_config('request.headers', $6, true), " +
	"set_config('request.cookies', $7, true)"

type server struct {
	pool *pgxpool.Pool
	anon string
	// anonClaims is request.jwt.claims for the anonymous role, as pgway sets it.
	anonClaims string
	byShape    map[string]*scenario.Scenario
	searchTo   string
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	pcfg, err := refsrv.PoolConfig("", "pgway-baseline")
	if err != nil {
		return fmt.Errorf("PGRST_DB_URI: %w", err)
	}
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("creating pool: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("connecting: %w", err)
	}

	s := &server{pool: pool, anon: refsrv.Env("PGRST_DB_ANON_ROLE", "web_anon"), byShape: map[string]*scenario.Scenario{},
		searchTo: `"` + strings.ReplaceAll(strings.Split(refsrv.Env("PGRST_DB_SCHEMAS", "public"), ",")[0], `"`, `""`) + `"`}
	s.anonClaims = `{"role":"` + s.anon + `"}` // a plain role name needs no JSON escaping
	for i := range scenario.All {
		sc := &scenario.All[i]
		s.byShape[sc.Shape()] = sc
	}
	return refsrv.Run("pgway-baseline", s.handle, pool.Ping)
}

func (s *server) handle(ctx *fasthttp.RequestCtx) {
	var keys []string
	q := ctx.QueryArgs()
	for k := range q.All() {
		keys = append(keys, string(k))
	}
	countExact := strings.Contains(string(ctx.Request.Header.Peek("Prefer")), "count=exact")
	sc := s.byShape[scenario.Shape(string(ctx.Method()), string(ctx.Path()), keys, countExact)]
	if sc == nil {
		ctx.SetStatusCode(http.StatusNotFound)
		ctx.SetBodyString(`{"code":"BENCH","details":null,"hint":null,"message":"baseline: unknown request shape"}`)
		return
	}
	args := sc.Args(scenario.Input{Query: func(k string) string { return string(q.Peek(k)) }, Body: ctx.PostBody()})

	actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	conn, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		fail(ctx, err)
		return
	}
	defer conn.Release()

	settings := settingsSQL
	if sc.Write {
		settings = writeSettingsSQL
	}
	var b pgx.Batch
	b.Queue(settings, s.searchTo, s.anon, s.anonClaims, string(ctx.Method()), string(ctx.Path()), headersJSON(&ctx.Request.Header), "{}")
	b.Queue(sc.SQL, args...)
	br := conn.SendBatch(context.Background(), &b)
	if sc.Write {
		err = s.respondWrite(ctx, br)
	} else {
		err = s.respond(ctx, br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fail(ctx, err)
	}
}

// respond reads the main statement's rows (total, row), joins them into a JSON array and writes status,
// Content-Range and body, as pgway's body sink and respond stage do.
func (s *server) respond(ctx *fasthttp.RequestCtx, br pgx.BatchResults) error {
	if _, err := br.Exec(); err != nil {
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	var total int64 = -1
	var page int64
	body := ctx.Response.BodyWriter()
	first := true
	for rows.Next() {
		v := rows.RawValues()
		if first && v[0] != nil {
			total, _ = strconv.ParseInt(string(v[0]), 10, 64)
			if len(v[0]) == 8 && rows.FieldDescriptions()[0].Format == 1 { // binary int8
				total = int64(binary.BigEndian.Uint64(v[0]))
			}
		}
		if v[1] == nil {
			first = false
			continue
		}
		if page == 0 {
			_, _ = body.Write([]byte{'['})
		} else {
			_, _ = body.Write([]byte{','})
		}
		_, _ = body.Write(v[1])
		page++
		first = false
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if page == 0 {
		ctx.Response.SetBodyString("[]")
	} else {
		_, _ = body.Write([]byte{']'})
	}
	status := http.StatusOK
	cr := make([]byte, 0, 32)
	if page > 0 {
		cr = append(cr, "0-"...)
		cr = strconv.AppendInt(cr, page-1, 10)
	} else {
		cr = append(cr, '*')
	}
	cr = append(cr, '/')
	if total >= 0 {
		cr = strconv.AppendInt(cr, total, 10)
		if page < total {
			status = http.StatusPartialContent
		}
	} else {
		cr = append(cr, '*')
	}
	ctx.SetStatusCode(status)
	ctx.Response.Header.Set("Content-Type", "application/json; charset=utf-8")
	ctx.Response.Header.SetBytesV("Content-Range", cr)
	return nil
}

// respondWrite reads the write's row and answers 201 with no body, as pgway does for return=minimal.
func (s *server) respondWrite(ctx *fasthttp.RequestCtx, br pgx.BatchResults) error {
	if _, err := br.Exec(); err != nil {
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errors.New("write statement returned no row")
	}
	ctx.SetStatusCode(http.StatusCreated)
	ctx.Response.Header.Set("Content-Range", "*/*")
	ctx.Response.Header.SetContentLength(0)
	return rows.Err()
}

// headersJSON renders the request headers as a JSON object with lower-case names (PostgREST's request.headers).
func headersJSON(h *fasthttp.RequestHeader) string {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	first := true
	for k, v := range h.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, strings.ToLower(string(k)))
		b = append(b, ':')
		b = appendJSONString(b, string(v))
	}
	return string(append(b, '}'))
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func fail(ctx *fasthttp.RequestCtx, err error) {
	ctx.Response.Reset()
	ctx.SetStatusCode(http.StatusInternalServerError)
	ctx.Response.Header.Set("Content-Type", "application/json; charset=utf-8")
	ctx.SetBodyString(`{"code":"PGWAY500","details":null,"hint":null,"message":"Internal server error"}`)
	log.Printf("%s %s: %v", ctx.Method(), ctx.RequestURI(), err)
}
