package sidecar

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// randomDoc builds a document of n incompressible bytes (its compressed size is about n).
func randomDoc(n int) func(w io.Writer) error {
	return func(w io.Writer) error {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		_, err := w.Write(b)
		return err
	}
}

// TestDocCacheBounded: the cache keeps documents up to its byte bound, dropping the least recently used first;
// a document larger than the bound is served but not kept; a failed build is not kept.
func TestDocCacheBounded(t *testing.T) {
	dc := newDocCache()
	dc.maxBytes = 10 << 10
	key := func(role string) docKey { return docKey{"api", role, "3.0", "json"} }
	for _, role := range []string{"a", "b", "c"} {
		if _, err := dc.get(key(role), randomDoc(3<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dc.get(key("a"), func(io.Writer) error { t.Fatal("a was rebuilt"); return nil }); err != nil {
		t.Fatal(err)
	}
	// d does not fit beside a, b and c: b, the least recently used, goes.
	if _, err := dc.get(key("d"), randomDoc(3<<10)); err != nil {
		t.Fatal(err)
	}
	keys, size := dc.cached()
	if want := []docKey{key("d"), key("a"), key("c")}; fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("cached %v, want %v", keys, want)
	}
	if size > dc.maxBytes {
		t.Errorf("cached %d bytes, bound %d", size, dc.maxBytes)
	}
	big, err := dc.get(key("big"), randomDoc(20<<10))
	if err != nil || big.raw != 20<<10 {
		t.Fatalf("big document: %v, %d bytes", err, big.raw)
	}
	if keys, _ := dc.cached(); len(keys) != 3 {
		t.Errorf("a document over the bound changed the cache: %v", keys)
	}
	boom := errors.New("boom")
	if _, err := dc.get(key("e"), func(io.Writer) error { return boom }); err != boom {
		t.Fatalf("failed build: %v", err)
	}
	built := false
	if _, err := dc.get(key("e"), func(w io.Writer) error { built = true; return randomDoc(10)(w) }); err != nil || !built {
		t.Fatalf("a failed build was kept: %v, rebuilt %v", err, built)
	}
	// What is kept is the document, gzip-compressed.
	e, _ := dc.get(key("text"), func(w io.Writer) error {
		_, err := io.WriteString(w, `{"openapi": "3.0.3"}`)
		return err
	})
	zr, err := gzip.NewReader(bytes.NewReader(e.gz))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != `{"openapi": "3.0.3"}` || e.raw != int64(len(b)) {
		t.Errorf("decompressed %q (raw %d)", b, e.raw)
	}
}

// TestDocCacheSharedBuild: concurrent requests for a document not built yet wait for one build.
func TestDocCacheSharedBuild(t *testing.T) {
	dc := newDocCache()
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(w io.Writer) error {
		builds.Add(1)
		<-release
		_, err := io.WriteString(w, "document")
		return err
	}
	const n = 8
	entries := make([]*docEntry, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := dc.get(docKey{"api", "web_anon", "3.0", "json"}, build)
			if err != nil {
				t.Error(err)
			}
			entries[i] = e
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all ask
	close(release)
	wg.Wait()
	if builds.Load() != 1 {
		t.Errorf("%d builds for one document", builds.Load())
	}
	for _, e := range entries {
		if e != entries[0] {
			t.Fatal("requests got different entries")
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=1.0, *;q=0.5": true, "br, deflate": false,
		"gzip;q=0": false, "gzip; q=0.0": false, "*": true, "identity": false, "x-gzip": true, "gzipx": false,
	} {
		if got := acceptsGzip([]byte(v)); got != want {
			t.Errorf("acceptsGzip(%q) = %v", v, got)
		}
	}
}

// cached reports the keys and compressed size of the documents kept, most recently used first.
func (dc *docCache) cached() (keys []docKey, size int64) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	for el := dc.lru.Front(); el != nil; el = el.Next() {
		keys = append(keys, el.Value.(*docEntry).key)
	}
	return keys, dc.size
}
