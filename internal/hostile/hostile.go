// Package hostile reads the hostile-input payloads (sidecar/testdata/hostile/payloads.txt) that the HTTP
// hostile-input suite and the SQL fuzz test both send.
package hostile

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Payloads reads the payload file at path: one payload per line, escapes decoded (see Unescape), blank lines and
// lines starting with "# " skipped. A file of fewer than 50 payloads is an error.
func Payloads(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading hostile payloads: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		out = append(out, Unescape(line))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading hostile payloads: %w", err)
	}
	if len(out) < 50 {
		return nil, fmt.Errorf("reading hostile payloads: only %d in %s", len(out), path)
	}
	return out, nil
}

// Unescape decodes \n \r \t \0 \\ and \xHH; any other backslash stays as it is.
func Unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		case '\\':
			b.WriteByte('\\')
		case 'x':
			if i+3 < len(s) {
				if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
					b.WriteByte(byte(n))
					i += 3
					continue
				}
			}
			b.WriteString(`\x`)
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i+1])
		}
		i++
	}
	return b.String()
}
