package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/bench/scenario"
)

// sample is one response, for comparing the servers' answers before measuring them.
type sample struct {
	status int
	ctype  string
	crange string
	cenc   string // Content-Encoding
	body   []byte // decoded from cenc
	wire   int    // the body's bytes as sent
}

func fetch(addr string, sc scenario.Scenario, target string) (sample, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + target)
	req.Header.SetMethod(sc.MethodOrGet())
	for _, h := range sc.Header {
		req.Header.Set(h[0], h[1])
	}
	if sc.Body != nil {
		req.SetBody(sc.Body(rand.New(rand.NewPCG(7, 7)), 0))
		req.Header.SetContentType("application/json")
	}
	if err := fasthttp.DoTimeout(req, resp, 30*time.Second); err != nil {
		return sample{}, err
	}
	// A compressed body is compared decoded: two encoders need not make the same bytes of the same body.
	body, err := resp.BodyUncompressed()
	if err != nil {
		return sample{}, fmt.Errorf("decoding the %s body: %w", resp.Header.ContentEncoding(), err)
	}
	return sample{status: resp.StatusCode(), ctype: string(resp.Header.ContentType()),
		crange: string(resp.Header.Peek("Content-Range")), cenc: string(resp.Header.ContentEncoding()),
		body: bytes.Clone(body), wire: len(resp.Body())}, nil
}

// compare sends the same few requests of sc to both servers and describes the first difference ("" if none).
// Write scenarios are not compared (their effects would differ). The bare handler sets Content-Range only when
// it counted (Prefer: count=exact); elsewhere its missing header is no difference. Bodies are compared decoded
// from their Content-Encoding, which must be the same.
// With verbose, it logs the first response of each server.
func compare(a, b *server, sc scenario.Scenario, rows int, verbose bool) string {
	if sc.Write {
		return ""
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 3 {
		target := sc.Target(r, rows)
		sa, err := fetch(fmt.Sprintf("127.0.0.1:%d", a.port), sc, target)
		if err != nil {
			return fmt.Sprintf("%s: %s: %v", a.name, target, err)
		}
		sb, err := fetch(fmt.Sprintf("127.0.0.1:%d", b.port), sc, target)
		if err != nil {
			return fmt.Sprintf("%s: %s: %v", b.name, target, err)
		}
		if verbose && i == 0 {
			for _, x := range []struct {
				name string
				s    sample
			}{{a.name, sa}, {b.name, sb}} {
				log.Printf("%s %s on %s: %d, Content-Range %q, Content-Encoding %q, %d bytes (%d sent): %s", sc.MethodOrGet(),
					target, x.name, x.s.status, x.s.crange, x.s.cenc, len(x.s.body), x.s.wire, trim(x.s.body))
			}
		}
		switch {
		case sa.status != sb.status:
			return fmt.Sprintf("%s: status %d vs %d (%s)", target, sa.status, sb.status, trim(sa.body))
		case sa.crange != sb.crange && !(b.name == "bare" && sb.crange == ""):
			return fmt.Sprintf("%s: Content-Range %q vs %q", target, sa.crange, sb.crange)
		case sa.ctype != sb.ctype:
			return fmt.Sprintf("%s: Content-Type %q vs %q", target, sa.ctype, sb.ctype)
		case sa.cenc != sb.cenc:
			return fmt.Sprintf("%s: Content-Encoding %q vs %q", target, sa.cenc, sb.cenc)
		case !sameJSON(sa.body, sb.body):
			i := 0
			for i < min(len(sa.body), len(sb.body)) && sa.body[i] == sb.body[i] {
				i++
			}
			from := max(i-40, 0)
			return fmt.Sprintf("%s: bodies differ (%d vs %d bytes) at byte %d: %q vs %q", target, len(sa.body), len(sb.body), i,
				sa.body[from:min(i+60, len(sa.body))], sb.body[from:min(i+60, len(sb.body))])
		}
	}
	return ""
}

// sameJSON reports whether two bodies are the same JSON value (json_agg and pgway's row framing format the same
// array differently), or the same bytes when either is not JSON.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}
