package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pgway/pgway/bench/scenario"
)

// profile drives sc against s for one more, unmeasured window of -duration (after -warmup) while fetching a CPU
// profile and an allocation delta profile of exactly that window from the server's /debug/pprof/, and writes
// them, with `go tool pprof -top` summaries, to -profile. It returns the files written.
func (s *server) profile(ctx context.Context, sc scenario.Scenario, o options) ([]string, error) {
	secs := max(int(o.duration.Round(time.Second)/time.Second), 1)
	base := filepath.Join(o.profileDir, sc.Name+"."+strings.ReplaceAll(s.name, "#", ""))
	kinds := []struct{ endpoint, file, index string }{
		{"profile", base + ".cpu.pprof", ""},
		{"allocs", base + ".allocs.pprof", "alloc_objects"},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(kinds))
	start := func() {
		for i, k := range kinds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = fetchTo(ctx, s.pprofURL()+k.endpoint+"?seconds="+strconv.Itoa(secs), k.file, time.Duration(secs+30)*time.Second)
			}()
		}
	}
	lr := drive("127.0.0.1:"+strconv.Itoa(s.port), sc, o.rows, o.conns, o.warmup, time.Duration(secs)*time.Second, start)
	wg.Wait()
	log.Printf("%-16s %-10s %8.0f req/s  (profiled window)", sc.Name, s.name, float64(lr.Requests)/lr.Elapsed.Seconds())
	var files []string
	for i, k := range kinds {
		if errs[i] != nil {
			return files, fmt.Errorf("%s: %w", k.endpoint, errs[i])
		}
		files = append(files, k.file)
		// A readable summary beside each profile: the top functions by flat and cumulative cost.
		args := []string{"tool", "pprof", "-top", "-nodecount=40"}
		if k.index != "" {
			args = append(args, "-sample_index="+k.index)
		}
		out, err := exec.CommandContext(ctx, "go", append(args, k.file)...).Output()
		if err != nil {
			log.Printf("go tool pprof %s: %v", k.file, err)
			continue
		}
		top := strings.TrimSuffix(k.file, ".pprof") + ".top.txt"
		if err := os.WriteFile(top, out, 0o644); err == nil {
			files = append(files, top)
		}
	}
	return files, nil
}

func fetchTo(ctx context.Context, url, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s: status %d: %s (no /debug/pprof/ there?)", url, resp.StatusCode, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
