package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/pgway/pgway/bench/scenario"
)

// loadResult is what the client saw during the measured window.
type loadResult struct {
	Requests int64
	Bytes    int64 // response body bytes as sent (compressed when they were), successful requests
	Errors   int64 // unexpected status or transport error
	Elapsed  time.Duration
	P50, P99 time.Duration
	FirstErr string
	lat      []int64 // sorted latencies (ns) of the successful requests
}

// merge adds another window's figures (for -rounds).
func (r loadResult) merge(o loadResult) loadResult {
	r.Requests += o.Requests
	r.Bytes += o.Bytes
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	if r.FirstErr == "" {
		r.FirstErr = o.FirstErr
	}
	r.lat = append(r.lat, o.lat...)
	slices.Sort(r.lat)
	r.P50, r.P99 = percentiles(r.lat)
	return r
}

func percentiles(sorted []int64) (p50, p99 time.Duration) {
	if len(sorted) == 0 {
		return 0, 0
	}
	return time.Duration(sorted[len(sorted)*50/100]), time.Duration(sorted[min(len(sorted)*99/100, len(sorted)-1)])
}

// drive sends sc to addr over conns keep-alive connections (one request in flight per connection, no pipelining)
// for warmup, then calls mark and measures for dur.
func drive(addr string, sc scenario.Scenario, rows, conns int, warmup, dur time.Duration, mark func()) loadResult {
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		errs      atomic.Int64
		firstErr  atomic.Value
		wg        sync.WaitGroup
		lat       = make([][]int64, conns)
		bytesRead atomic.Int64
	)
	method := sc.MethodOrGet()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &fasthttp.HostClient{Addr: addr, MaxConns: 1, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
				MaxIdleConnDuration: time.Minute}
			r := rand.New(rand.NewPCG(uint64(w), 0x9e3779b97f4a7c15))
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			samples := make([]int64, 0, 4096)
			for !stop.Load() {
				req.Reset()
				req.SetRequestURI("http://" + addr + sc.Target(r, rows))
				req.Header.SetMethod(method)
				for _, h := range sc.Header {
					req.Header.Set(h[0], h[1])
				}
				if sc.Body != nil {
					req.SetBody(sc.Body(r, rows))
					if len(req.Header.ContentType()) == 0 {
						req.Header.SetContentType("application/json")
					}
				}
				t0 := time.Now()
				err := c.Do(req, resp)
				d := time.Since(t0)
				if !measuring.Load() {
					continue
				}
				switch {
				case err != nil:
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				case !slices.Contains(sc.Status, resp.StatusCode()):
					errs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d: %s", resp.StatusCode(), trim(resp.Body())))
				default:
					samples = append(samples, int64(d))
					bytesRead.Add(int64(len(resp.Body())))
				}
			}
			lat[w] = samples
		}()
	}
	time.Sleep(warmup)
	mark()
	start := time.Now()
	measuring.Store(true)
	time.Sleep(dur)
	measuring.Store(false)
	elapsed := time.Since(start)
	stop.Store(true)
	wg.Wait()

	var all []int64
	for _, s := range lat {
		all = append(all, s...)
	}
	slices.Sort(all)
	res := loadResult{Requests: int64(len(all)), Bytes: bytesRead.Load(), Errors: errs.Load(), Elapsed: elapsed, lat: all}
	res.P50, res.P99 = percentiles(all)
	if v := firstErr.Load(); v != nil {
		res.FirstErr = v.(string)
	}
	return res
}

func trim(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
