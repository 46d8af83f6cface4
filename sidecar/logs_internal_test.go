package sidecar

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestNewLogger: log-level maps to slog as PostgREST's levels nest — crit and error write errors, warn
// warnings, info information, debug everything — NOTICE is written at every level under that name, and the
// request lines' own threshold drops them all at crit.
func TestNewLogger(t *testing.T) {
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, LevelNotice, slog.LevelWarn, slog.LevelError}
	for level, want := range map[string][]bool{
		"crit":  {false, false, true, false, true},
		"error": {false, false, true, false, true},
		"warn":  {false, false, true, true, true},
		"info":  {false, true, true, true, true},
		"debug": {true, true, true, true, true},
	} {
		l := NewLogger(&bytes.Buffer{}, "text", level).With("k", "v")
		for i, lv := range levels {
			if got := l.Enabled(context.Background(), lv); got != want[i] {
				t.Errorf("log-level %s: %v enabled %v, want %v", level, lv, got, want[i])
			}
		}
	}
	if requestMin("crit") <= slog.LevelError || requestMin("error") != slog.LevelError || requestMin("warn") != slog.LevelWarn ||
		requestMin("info") != slog.LevelInfo || requestMin("debug") > slog.LevelInfo {
		t.Error("requestMin does not follow PostgREST's shouldLogResponse")
	}
	var text, js bytes.Buffer
	NewLogger(&text, "text", "crit").Log(context.Background(), LevelNotice, "schema cache loaded", "relations", 3)
	NewLogger(&js, "json", "crit").Log(context.Background(), LevelNotice, "schema cache loaded", "relations", 3)
	if !strings.Contains(text.String(), `level=NOTICE msg="schema cache loaded" relations=3`) {
		t.Errorf("text: %s", text.String())
	}
	if !strings.Contains(js.String(), `"level":"NOTICE","msg":"schema cache loaded","relations":3}`) {
		t.Errorf("json: %s", js.String())
	}
}

func TestPgVersion(t *testing.T) {
	for n, want := range map[int]string{160004: "16.4", 170000: "17.0", 90624: "9.6.24", 0: "-"} {
		if got := pgVersion(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
