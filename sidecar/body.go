package sidecar

import (
	"bufio"
	"net"
	"strconv"

	"github.com/cespare/xxhash/v2"

	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/respond"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// streamChunk is how much of a streamed body is gathered before it is written out as one chunk.
const streamChunk = 64 << 10

// bodySink receives the response body from the database (dbexec.Sink): a one-row statement's body, each line of
// a text plan, or the rows of a statement rendered row by row, joined as its framing says. Up to
// server-response-buffer-size it is buffered in the fasthttp response, so the response keeps PostgREST's exact
// semantics (Content-Range from the rows counted, response GUCs read after the statement, the status they set).
// Past it the response streams: the head is sent, computed from what is known before the rows end (the count
// when one was asked for), the rows buffered so far follow, and the rest is written as it arrives, in chunks,
// on the connection taken over from fasthttp (which is closed after it, as a streamed response ends the
// keep-alive). A streamed body is compressed as it goes when the client accepts a coding, each chunk flushed so
// that the client can decode it on arrival.
type bodySink struct {
	s       *Server
	h       *handling
	act     *plan.Action
	framing *sqlgen.Framing
	explain bool
	res     *dbexec.Result
	// countOnly: HEAD, rows are counted, not kept; digest and size are what the body would be (its ETag and
	// whether it would be compressed or streamed).
	countOnly bool
	digest    xxhash.Digest
	size      int
	// wouldStream: a counted body outgrew the buffer, so its GET streams.
	wouldStream bool
	// limit is server-response-buffer-size (0: never stream).
	limit int
	rows  int64
	lines int

	// Streaming, once started: w writes to the connection; chunked unless the client speaks HTTP/1.0 (then
	// the body ends when the connection closes).
	w       *bufio.Writer
	conn    net.Conn
	chunk   []byte
	chunked bool
	emitted bool
	// z compresses the stream (nil: identity).
	z *compressor
}

// newBodySink is h's sink (h.sink), set up for the response to act.
func (s *Server) newBodySink(h *handling, act *plan.Action, framing *sqlgen.Framing, explain bool, res *dbexec.Result) *bodySink {
	h.sink = bodySink{s: s, h: h, act: act, framing: framing, explain: explain, res: res,
		countOnly: h.ctx.IsHead(), limit: h.snap.set.cfg.ResponseBufferBytes}
	if h.sink.countOnly {
		h.sink.digest.Reset()
	}
	return &h.sink
}

// Body appends a one-row statement's body, or a plan line.
func (b *bodySink) Body(p []byte) error {
	resp := &b.h.ctx.Response
	if b.explain && b.lines > 0 {
		resp.AppendBodyString("\n")
	}
	b.lines++
	resp.AppendBody(p)
	return nil
}

// Row adds one row: to the buffered body, or to the stream.
func (b *bodySink) Row(total int64, row []byte) error {
	if row == nil {
		return nil // the one row of an empty counted result
	}
	sep := b.framing.Sep
	if b.rows == 0 {
		sep = b.framing.Open
	}
	b.rows++
	if b.countOnly {
		b.digest.WriteString(sep) //nolint:errcheck // never fails
		b.digest.Write(row)       //nolint:errcheck
		b.size += len(sep) + len(row)
		b.wouldStream = b.wouldStream || b.limit > 0 && b.size > b.limit
		return nil
	}
	if b.w != nil {
		b.chunk = append(b.chunk, sep...)
		b.chunk = append(b.chunk, row...)
		if len(b.chunk) >= streamChunk {
			return b.flushChunk()
		}
		return nil
	}
	resp := &b.h.ctx.Response
	resp.AppendBodyString(sep)
	resp.AppendBody(row)
	if b.limit > 0 && len(resp.Body()) > b.limit {
		return b.startStream(total)
	}
	return nil
}

// Reset drops the buffered body: the exchange runs again on another connection.
func (b *bodySink) Reset() {
	b.h.ctx.Response.ResetBody()
	b.rows, b.lines, b.size, b.wouldStream = 0, 0, 0, false
	b.digest.Reset()
}

// Emitted reports whether part of the body has reached the client.
func (b *bodySink) Emitted() bool { return b.emitted }

// streaming reports whether the response is being streamed (its head has been sent).
func (b *bodySink) streaming() bool { return b != nil && b.w != nil }

// finish completes a buffered body of rows: the framing's end, or its empty body.
func (b *bodySink) finish() {
	if b.framing == nil {
		return
	}
	if b.countOnly {
		end := b.framing.Close
		if b.rows == 0 {
			end = b.framing.Empty
		}
		b.digest.WriteString(end) //nolint:errcheck // never fails
		b.size += len(end)
		return
	}
	if b.rows == 0 {
		b.h.ctx.Response.SetBodyString(b.framing.Empty)
		return
	}
	b.h.ctx.Response.AppendBodyString(b.framing.Close)
}

// startStream sends the head of a response whose body outgrew the buffer, then the rows buffered so far, and
// takes the connection over from fasthttp for the rest.
func (b *bodySink) startStream(total int64) error {
	h := b.h
	out, err := respond.Build(b.act, h.req, respond.Result{Total: total, Estimate: b.res.Estimate, Streamed: true},
		b2s(h.ctx.URI().QueryString()))
	if err != nil {
		return err
	}
	ctx := h.ctx
	resp := &ctx.Response
	buffered := append([]byte(nil), resp.Body()...)
	resp.ResetBody()
	h.apply(out)
	if len(resp.Header.Peek("Vary")) == 0 {
		resp.Header.Set("Vary", defaultVary)
	}
	finishHeaders(resp, h.snap.set)
	// Compressed when the client accepts a coding: a streamed body is past server-response-buffer-size, so
	// large whatever server-compression-min-size says.
	if set := h.snap.set; len(set.codings) > 0 && len(resp.Header.ContentEncoding()) == 0 &&
		compressible(resp.Header.ContentType()) {
		if c, _ := negotiate(ctx.Request.Header.Peek("Accept-Encoding"), set.codings); c != identity {
			resp.Header.Set("Content-Encoding", codingNames[c])
			b.z = getCompressor(c, 0)
		}
		varyAcceptEncoding(&resp.Header)
	}
	b.chunked = ctx.Request.Header.IsHTTP11()
	if b.chunked {
		resp.Header.SetContentLength(-1) // Transfer-Encoding: chunked
	} else {
		resp.Header.SetContentLength(-2) // the body ends with the connection
	}
	resp.SetConnectionClose()
	// fasthttp sends nothing of its own for this request and closes the connection once the handler returns.
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(net.Conn) {})
	b.conn = ctx.Conn()
	b.w = bufio.NewWriterSize(b.conn, streamChunk+64)
	if _, err := b.w.Write(resp.Header.Header()); err != nil {
		return b.gone(err)
	}
	b.chunk = append(make([]byte, 0, streamChunk+len(buffered)), buffered...)
	b.emitted = true
	return b.flushChunk()
}

// flushChunk writes the gathered bytes as one chunk and flushes them to the client. A compressed stream's chunk
// is what its encoder makes of them, flushed (last: the end of the compressed stream).
func (b *bodySink) flushChunk() error { return b.writeChunk(false) }

func (b *bodySink) writeChunk(last bool) error {
	data := b.chunk
	if b.z != nil {
		b.z.out.b = b.z.out.b[:0]
		err := b.z.write(b.chunk)
		if err == nil && last {
			err = b.z.close()
		} else if err == nil {
			err = b.z.flush()
		}
		if err != nil {
			return err
		}
		data = b.z.out.b
	}
	if len(data) > 0 {
		if b.chunked {
			var size [20]byte
			b.w.Write(strconv.AppendInt(size[:0], int64(len(data)), 16)) //nolint:errcheck // Flush reports it
			b.w.WriteString("\r\n")                                      //nolint:errcheck
			b.w.Write(data)                                              //nolint:errcheck
			b.w.WriteString("\r\n")                                      //nolint:errcheck
		} else {
			b.w.Write(data) //nolint:errcheck // Flush reports it
		}
	}
	b.chunk = b.chunk[:0]
	if err := b.w.Flush(); err != nil {
		return b.gone(err)
	}
	return nil
}

// gone handles a client that stopped reading mid-stream: the request is cancelled in PostgreSQL, so that the
// rest of the result is not read only to be dropped.
func (b *bodySink) gone(err error) error {
	b.s.inflight.cancelNow(b.h.state, errClientGone)
	return err
}

// end writes the framing's end and the last chunk of a stream that completed.
func (b *bodySink) end() {
	defer b.release()
	b.chunk = append(b.chunk, b.framing.Close...)
	if b.writeChunk(true) != nil || !b.chunked {
		return
	}
	b.w.WriteString("0\r\n\r\n") //nolint:errcheck // the connection closes next either way
	_ = b.w.Flush()
}

// abort leaves a stream incomplete: no last chunk, so the client sees it cut short when the connection closes.
func (b *bodySink) abort() {
	defer b.release()
	if b.w != nil {
		_ = b.w.Flush()
	}
}

// release returns a stream's encoder to its pool.
func (b *bodySink) release() {
	if b.z != nil {
		b.z.put()
		b.z = nil
	}
}
