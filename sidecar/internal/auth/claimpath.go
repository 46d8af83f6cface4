package auth

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// claimPath is a parsed jwt-role-claim-key in PostgREST's JSPath syntax:
// `.key`, `."quoted key"`, `[0]`, and one final filter `[?(@ op "text")]` with op ==, !=, ^== (prefix),
// ==^ (suffix) or *== (contains), which picks the first matching string of an array.
// The RFC 9535 form newer PostgREST versions use is accepted for its plain segments: `$.key`, `$['key']`,
// `$["key"]`, `$[0]` (no filters or wildcards).
type claimPath []step

type step struct {
	key    string
	idx    int // when isIdx
	isIdx  bool
	op     string // filter operator when non-empty
	filter string
}

func parseClaimPath(s string) (claimPath, error) {
	orig := s
	var p claimPath
	bad := func(why string) (claimPath, error) {
		return nil, fmt.Errorf("failed to parse role-claim-key value (%s): %s", orig, why)
	}
	rfc := strings.HasPrefix(s, "$")
	if rfc {
		s = s[1:]
		if s == "" {
			return bad("the root itself is not a role")
		}
	}
	for s != "" {
		if rfc && len(s) > 1 && s[0] == '[' && (s[1] == '\'' || s[1] == '"') {
			q := s[1]
			end := strings.IndexByte(s[2:], q)
			if end < 0 || !strings.HasPrefix(s[2+end+1:], "]") {
				return bad("unterminated quoted name")
			}
			p = append(p, step{key: s[2 : 2+end]})
			s = s[2+end+2:]
			continue
		}
		if rfc && strings.HasPrefix(s, "[?") {
			return bad("filters are only supported in the .key[?(@ == \"x\")] syntax")
		}
		switch {
		case s[0] == '.':
			s = s[1:]
			if s != "" && s[0] == '"' {
				end := strings.IndexByte(s[1:], '"')
				if end < 0 {
					return bad("unterminated quoted key")
				}
				p = append(p, step{key: s[1 : 1+end]})
				s = s[2+end:]
				continue
			}
			n := 0
			for n < len(s) && isKeyChar(s[n]) {
				n++
			}
			if n == 0 {
				return bad("expected a key after '.'")
			}
			p = append(p, step{key: s[:n]})
			s = s[n:]
		case strings.HasPrefix(s, "[?("):
			st, rest, err := parseFilter(s[3:])
			if err != nil {
				return bad(err.Error())
			}
			if rest != "" {
				return bad("a filter must be the last expression")
			}
			p = append(p, st)
			s = rest
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 2 {
				return bad("expected an array index")
			}
			digits := s[1:end]
			for i := 0; i < len(digits); i++ {
				if digits[i] < '0' || digits[i] > '9' {
					return bad("expected an array index")
				}
			}
			n, err := strconv.Atoi(digits)
			if err != nil {
				return bad("array index out of range")
			}
			p = append(p, step{idx: n, isIdx: true})
			s = s[end+1:]
		default:
			return bad("unexpected " + strconv.Quote(s[:1]))
		}
	}
	if len(p) == 0 {
		return bad("empty path")
	}
	return p, nil
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '@'
}

// parseFilter parses `@ op "text")]` (after "[?(").
func parseFilter(s string) (step, string, error) {
	if s == "" || s[0] != '@' {
		return step{}, "", fmt.Errorf("filter must start with @")
	}
	s = strings.TrimLeft(s[1:], " \t\n\r")
	var op string
	for _, o := range []string{"==^", "==", "!=", "^==", "*=="} {
		if strings.HasPrefix(s, o) {
			op = o
			break
		}
	}
	if op == "" {
		return step{}, "", fmt.Errorf("unknown filter operator")
	}
	s = strings.TrimLeft(s[len(op):], " \t\n\r")
	if s == "" || s[0] != '"' {
		return step{}, "", fmt.Errorf("filter value must be quoted")
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return step{}, "", fmt.Errorf("unterminated filter value")
	}
	val := s[1 : 1+end]
	s = s[2+end:]
	if !strings.HasPrefix(s, ")]") {
		return step{}, "", fmt.Errorf("expected )]")
	}
	return step{op: op, filter: val}, s[2:], nil
}

// eval walks the claims object; ok is false when the path leads nowhere.
func (p claimPath) eval(claims map[string]json.RawMessage) (json.RawMessage, bool) {
	var cur json.RawMessage
	for i, st := range p {
		if i == 0 {
			if st.isIdx || st.op != "" {
				return nil, false
			}
			v, ok := claims[st.key]
			if !ok {
				return nil, false
			}
			cur = v
			continue
		}
		switch {
		case st.op != "":
			var arr []json.RawMessage
			if json.Unmarshal(cur, &arr) != nil {
				return nil, false
			}
			for _, el := range arr {
				var s string
				if json.Unmarshal(el, &s) == nil && st.matches(s) {
					return el, true
				}
			}
			return nil, false
		case st.isIdx:
			var arr []json.RawMessage
			if json.Unmarshal(cur, &arr) != nil || st.idx >= len(arr) {
				return nil, false
			}
			cur = arr[st.idx]
		default:
			var obj map[string]json.RawMessage
			if json.Unmarshal(cur, &obj) != nil || obj == nil {
				return nil, false
			}
			v, ok := obj[st.key]
			if !ok {
				return nil, false
			}
			cur = v
		}
	}
	return cur, true
}

func (st step) matches(s string) bool {
	switch st.op {
	case "==":
		return s == st.filter
	case "!=":
		return s != st.filter
	case "^==":
		return strings.HasPrefix(s, st.filter)
	case "==^":
		return strings.HasSuffix(s, st.filter)
	case "*==":
		return strings.Contains(s, st.filter)
	}
	return false
}
