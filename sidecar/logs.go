package sidecar

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// LevelNotice is the level of what PostgREST logs whatever its log-level: startup, each schema cache and
// configuration load, the listener's reloads, shutdown. The handler of NewLogger writes it at every level, named
// NOTICE (syslog's "normal but significant condition", between INFO and WARN).
const LevelNotice = slog.LevelInfo + 2

// noLines is a request log threshold no line reaches (log-level = crit).
const noLines = slog.Level(1 << 20)

// NewLogger is pgway's logger: lines written to w as slog's text (key=value) or, with format "json", as one
// JSON object each; level is PostgREST's log-level (crit, error, warn, info, debug). Lines below the level are
// dropped before anything is formatted, except NOTICE lines, which are always written. crit keeps the
// server's own errors and drops only the request lines, which the server filters itself (requestMin).
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: levelName}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(&noticeHandler{Handler: h, min: slogLevel(level)})
}

// slogLevel maps PostgREST's log-level to the lowest slog level written: crit and error write errors, warn
// warnings, info the request lines of every status, debug everything.
func slogLevel(level string) slog.Level {
	switch level {
	case "warn":
		return slog.LevelWarn
	case "info":
		return slog.LevelInfo
	case "debug":
		return slog.LevelDebug
	}
	return slog.LevelError
}

// requestMin is the lowest level of the request lines log-level keeps, as PostgREST's shouldLogResponse:
// crit none, error 5xx (ERROR), warn 4xx too (WARN), info and debug all (INFO).
func requestMin(level string) slog.Level {
	if level == "crit" {
		return noLines
	}
	return slogLevel(level)
}

// levelName names LevelNotice NOTICE instead of slog's "INFO+2".
func levelName(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && len(groups) == 0 {
		if l, ok := a.Value.Any().(slog.Level); ok && l == LevelNotice {
			a.Value = slog.StringValue("NOTICE")
		}
	}
	return a
}

// noticeHandler filters by level, letting NOTICE through.
type noticeHandler struct {
	slog.Handler
	min slog.Level
}

func (h *noticeHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.min || l == LevelNotice
}

func (h *noticeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &noticeHandler{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h *noticeHandler) WithGroup(name string) slog.Handler {
	return &noticeHandler{Handler: h.Handler.WithGroup(name), min: h.min}
}

// notice logs msg at LevelNotice.
func (s *Server) notice(msg string, args ...any) {
	s.log.Log(context.Background(), LevelNotice, msg, args...)
}

// statusClientClosed is the status recorded for a request whose client went away before it was answered:
// nginx's 499 (Client Closed Request). The client received nothing, so the 5xx its cancelled statement produced
// is not counted as a server error.
const statusClientClosed = 499

// observe records a finished request: its duration and status class in the metrics, by route, and its line in
// the log. Called from handle's deferred function while the request still owns its context (a context that was
// not cancelled is reused by the next request once inflight.end has run). Below the level nothing is formatted
// and nothing allocated.
func (s *Server) observe(h *handling, start time.Time, err error) {
	d := time.Since(start)
	status := h.ctx.Response.StatusCode()
	streamed := h.body.streaming()
	var cause error
	if h.db != nil && h.db.Err() != nil {
		cause = context.Cause(h.db)
	}
	if cause == errClientGone && !streamed {
		status = statusClientClosed
	}
	s.metrics.observe(s.route(h), status, d)

	level := slog.LevelInfo
	switch {
	case cause == errClientGone:
		level = slog.LevelWarn // the client's doing, not the server's
	case status >= 500, err != nil && streamed:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	}
	if level < s.reqMin || !s.log.Enabled(context.Background(), level) {
		return
	}
	s.logRequest(h, level, status, d, err, cause, streamed)
}

// logRequest writes a request's line: method, path (never the query string, which may carry function
// arguments), status, duration, role, client address, body size, user agent; for an error its code; for a
// 5xx, a response cut short or a client gone the cause; with log-query the main SQL statement (text only: its
// values are bind parameters and never logged).
func (s *Server) logRequest(h *handling, level slog.Level, status int, d time.Duration, err, cause error, streamed bool) {
	ctx := h.ctx
	role := h.who.Role
	if role == "" {
		role = "-"
	}
	bytes := int64(len(ctx.Response.Body()))
	if streamed {
		bytes = -1 // streamed: not known here
	}
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("method", string(ctx.Method())),
		slog.String("path", string(ctx.Path())),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("role", role),
		slog.String("remote", remoteIP(ctx.RemoteAddr())),
		slog.Int64("bytes", bytes),
		slog.String("user_agent", string(ctx.UserAgent())),
	)
	if th := h.snap.set.cfg.ServerTraceHeader; th != "" {
		if v := ctx.Request.Header.Peek(th); len(v) > 0 {
			attrs = append(attrs, slog.String("trace", string(v)))
		}
	}
	if err != nil {
		attrs = append(attrs, slog.String("code", apierr.As(err, h.who.Authenticated).Code))
	}
	if level >= slog.LevelError || cause == errClientGone {
		if c := causeText(err, cause); c != "" {
			attrs = append(attrs, slog.String("err", c))
		}
		if streamed && err != nil {
			attrs = append(attrs, slog.Bool("cut_short", true))
		}
	}
	if h.snap.set.cfg.LogQuery && h.body != nil && h.body.act != nil {
		attrs = append(attrs, slog.String("sql", sqlgen.For(h.body.act).Main.SQL))
	}
	s.log.LogAttrs(context.Background(), level, "request", attrs...)
}

// causeText says why a request failed, for the log: why its context ended (client gone, shutdown,
// server-request-timeout), else its error — PostgreSQL's SQLSTATE and message (not its detail, which may quote
// row values), or pgway's code and message with the underlying cause (a connection failure names the host, port,
// role and database here, never in the response).
func causeText(err, cause error) string {
	switch {
	case cause == errClientGone:
		return "client closed the connection"
	case cause == errShutdown:
		return cause.Error()
	case errors.Is(cause, context.DeadlineExceeded):
		return "server-request-timeout passed"
	case err == nil:
		return ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return "SQLSTATE " + pe.Code + ": " + pe.Message
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		if ae.Err != nil {
			return ae.Code + ": " + ae.Message + ": " + ae.Err.Error()
		}
		return ae.Code + ": " + ae.Message
	}
	return err.Error()
}

// remoteIP is the client's address without its port (a Unix socket's peer as the listener names it).
func remoteIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	if a == nil {
		return "-"
	}
	return a.String()
}

// logLoad logs what a schema cache load published, at every log-level (PostgREST's "Schema cache queried in",
// "Schema cache loaded …" and "Successfully connected to PostgreSQL …" lines): the exposed schemas, the
// PostgreSQL version, how many relations, relationships, functions and media type handlers the cache holds,
// the API versions of the version catalog and the roles with settings of their own, the time the catalog
// queries took and the whole load's (queries, version catalog, role settings, validators).
func (s *Server) logLoad(snap *snapshot, d time.Duration) {
	c := snap.cache
	relationships := 0
	for _, rs := range c.Relationships {
		relationships += len(rs)
	}
	versions := make([]string, 0, 4)
	for _, v := range snap.versions.Versions() {
		versions = append(versions, v.Name)
	}
	if len(versions) == 0 {
		versions = append(versions, "-")
	}
	current := "-"
	if v, ok := snap.versions.Current(); ok {
		current = v.Name
	}
	s.notice("schema cache loaded",
		"schemas", strings.Join(c.Schemas, ","),
		"postgres", pgVersion(c.ServerVersion),
		"relations", len(c.Relations),
		"relationships", relationships,
		"functions", len(c.Routines),
		"media_handlers", len(c.MediaHandlers),
		"versions", strings.Join(versions, ","),
		"current_version", current,
		"roles_with_settings", len(snap.roleSettings),
		"query_ms", float64(c.QueryDuration.Microseconds())/1000,
		"duration_ms", float64(d.Microseconds())/1000,
		"generation", snap.generation)
}

// pgVersion renders server_version_num as PostgreSQL names the version: 160004 is 16.4, 90624 9.6.24.
func pgVersion(n int) string {
	switch {
	case n <= 0:
		return "-"
	case n < 100000:
		return strconv.Itoa(n/10000) + "." + strconv.Itoa(n/100%100) + "." + strconv.Itoa(n%100)
	}
	return strconv.Itoa(n/10000) + "." + strconv.Itoa(n%10000)
}
