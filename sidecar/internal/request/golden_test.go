package request_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/parse/*.txt")

const sep = "----\n"

// TestGolden runs every testdata/parse/*.txt case: an HTTP-like request (request line, headers, blank line,
// body) above a "----" line, and below it the parsed Request (zero fields left out) or the error.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, _ := strings.Cut(string(raw), sep)
			in, err := readInput(input)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, in)
			if *update {
				if err := os.WriteFile(file, []byte(input+sep+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s: got\n%s\nwant\n%s", file, got, want)
			}
		})
	}
}

// readInput parses "METHOD /path?query", header lines, an optional blank line and body.
func readInput(s string) (request.Input, error) {
	var in request.Input
	sc := bufio.NewScanner(strings.NewReader(s))
	if !sc.Scan() {
		return in, errors.New("empty case")
	}
	method, target, _ := strings.Cut(sc.Text(), " ")
	in.Method = method
	in.Path, in.Query, _ = strings.Cut(target, "?")
	var body []string
	inBody := false
	for sc.Scan() {
		line := sc.Text()
		if inBody {
			body = append(body, line)
			continue
		}
		if line == "" {
			inBody = true
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return in, errors.New("bad header line: " + line)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "accept":
			in.Accept = v
		case "prefer":
			if in.Prefer != "" {
				in.Prefer += ", "
			}
			in.Prefer += v
		case "range":
			in.Range = v
		case "range-unit":
			in.RangeUnit = v
		case "accept-profile":
			in.AcceptProfile = v
		case "content-profile":
			in.ContentProfile = v
		case "content-type":
			in.ContentType = v
		default:
			return in, errors.New("unknown header: " + k)
		}
	}
	if len(body) > 0 {
		in.Body = []byte(strings.Join(body, "\n"))
	}
	return in, nil
}

var enumNames = map[string][]string{
	"Action": {"read", "insert", "update", "upsert", "delete", "call", "info", "schema"},
	"Accept": {"json", "object", "csv", "plan", "array-stripped", "object-stripped", "openapi", "custom"},
	"Count":  {"none", "exact", "planned", "estimated"},
}

// render is the golden text of a parse: the Request without its zero fields, or the error with its status.
func render(t *testing.T, in request.Input) string {
	t.Helper()
	req, err := request.Parse(in)
	var v any
	if err != nil {
		var ae *apierr.Error
		if !errors.As(err, &ae) {
			t.Fatalf("error is not an *apierr.Error: %T %v", err, err)
		}
		v = map[string]any{"status": ae.Status, "error": json.RawMessage(ae.JSON())}
	} else {
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		var m any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if mm, ok := m.(map[string]any); ok {
			if body, ok := mm["Body"].(string); ok {
				mm["Body"] = body // base64, kept as is
			}
			if mm["AcceptErr"] == nil {
				// The accepted list only matters when no built-in type matched (a handler may still).
				delete(mm, "AcceptIndex")
			}
			if mm["Prefer"].(map[string]any)["MaxAffected"] == float64(-1) {
				delete(mm["Prefer"].(map[string]any), "MaxAffected")
			}
		}
		v = prune("", m)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// prune drops null, "", false and empty objects, and names enum values.
func prune(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := prune(k, e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			p := prune("", e)
			if p == nil {
				p = map[string]any{}
			}
			out = append(out, p)
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	case float64:
		if key == "Count" && x == 0 {
			return nil
		}
		if names, ok := enumNames[key]; ok && int(x) < len(names) {
			return names[int(x)]
		}
	}
	return v
}
