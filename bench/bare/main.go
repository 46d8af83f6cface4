// Command bare is the benchmark's second reference: the simplest handler a Go developer would write with
// fasthttp and pgxpool. Each request is one plain statement (scenario.Bare) through pgxpool's QueryRow or Exec
// with pgx's defaults (statements prepared and cached per connection, binary results), as a login role that
// holds the table privileges itself: no settings statement, no role switch, no request GUCs, no transaction.
// Its body is byte for byte pgway's. It reads pgway's PGRST_* environment variables for the few settings it
// has (pool size, ports) and connects with $BARE_DB_URI.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/bench/internal/refsrv"
	"github.com/pgway/pgway/bench/scenario"
)

type server struct {
	pool    *pgxpool.Pool
	byShape map[string]*scenario.Scenario
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	pcfg, err := refsrv.PoolConfig(refsrv.Env("BARE_DB_URI", ""), "pgway-bare")
	if err != nil {
		return fmt.Errorf("BARE_DB_URI: %w", err)
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
	s := &server{pool: pool, byShape: map[string]*scenario.Scenario{}}
	for i := range scenario.All {
		sc := &scenario.All[i]
		s.byShape[sc.Shape()] = sc
	}
	return refsrv.Run("pgway-bare", s.handle, pool.Ping)
}

// handle routes by request shape (the stand-in for a router) and runs the scenario's one statement.
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
		ctx.SetBodyString(`{"message":"bare: unknown request shape"}`)
		return
	}
	args, err := sc.BareArgs(scenario.Input{Query: func(k string) string { return string(q.Peek(k)) }, Body: ctx.PostBody()})
	if err != nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		ctx.SetBodyString(`{"message":"bad request"}`)
		return
	}
	// context.Background(), as pgway: a cancellable request context would cost pgx a watcher per query.
	dbctx := context.Background()
	if sc.Write {
		if _, err := s.pool.Exec(dbctx, sc.Bare, args...); err != nil {
			fail(ctx, err)
			return
		}
		ctx.SetStatusCode(http.StatusCreated)
		ctx.Response.Header.SetContentLength(0)
		return
	}
	var body []byte
	if !countExact {
		if err := s.pool.QueryRow(dbctx, sc.Bare, args...).Scan(&body); err != nil {
			fail(ctx, err)
			return
		}
	} else {
		var page, total int64
		if err := s.pool.QueryRow(dbctx, sc.Bare, args...).Scan(&body, &page, &total); err != nil {
			fail(ctx, err)
			return
		}
		status := http.StatusOK
		if page < total {
			status = http.StatusPartialContent
		}
		ctx.SetStatusCode(status)
		cr := "*/" + strconv.FormatInt(total, 10)
		if page > 0 {
			cr = "0-" + strconv.FormatInt(page-1, 10) + "/" + strconv.FormatInt(total, 10)
		}
		ctx.Response.Header.Set("Content-Range", cr)
	}
	ctx.Response.Header.Set("Content-Type", "application/json; charset=utf-8")
	ctx.SetBody(body)
}

func fail(ctx *fasthttp.RequestCtx, err error) {
	ctx.Response.Reset()
	ctx.SetStatusCode(http.StatusInternalServerError)
	ctx.Response.Header.Set("Content-Type", "application/json; charset=utf-8")
	ctx.SetBodyString(`{"message":"Internal server error"}`)
	if !errors.Is(err, context.Canceled) {
		log.Printf("%s %s: %v", ctx.Method(), ctx.RequestURI(), err)
	}
}
