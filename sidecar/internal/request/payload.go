package request

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/apierr"
)

// Payload is a write body ready for PostgreSQL: JSON (CSV and form bodies are converted) and the column names
// it carries, as PostgREST's ApiRequest.Payload.
type Payload struct {
	// JSON is the body to bind as $1: an object or an array of objects (a scalar becomes "[]").
	JSON []byte
	// Object is true when JSON is a single object (json_to_record) rather than an array (json_to_recordset).
	Object bool
	// Keys are the column names, sorted: the keys every object shares, or columns= when given (the body is then
	// passed through unparsed, as PostgREST does).
	Keys []string
}

// invalidBody is PostgREST's InvalidBody error.
func invalidBody(msg string) error {
	return apierr.New(http.StatusBadRequest, "PGRST102", msg)
}

// parsePayload reads the body of an insert, update or upsert.
func (req *Request) parsePayload() error {
	body := req.Body
	switch req.ContentType {
	case "text/csv":
		js, keys, err := csvToJSON(body)
		if err != nil {
			return err
		}
		req.Payload = &Payload{JSON: js, Keys: keys}
		return nil
	case "application/x-www-form-urlencoded":
		js, keys, err := formToJSON(body)
		if err != nil {
			return err
		}
		req.Payload = &Payload{JSON: js, Object: true, Keys: keys}
		return nil
	}
	if req.Columns != nil && req.Action != ActionUpsert {
		keys := slices.Clone(req.Columns)
		slices.Sort(keys)
		keys = slices.Compact(keys)
		req.Payload = &Payload{JSON: body, Object: firstNonSpace(body) == '{', Keys: keys}
		return nil
	}
	if !json.Valid(body) {
		return invalidBody("Empty or invalid json")
	}
	p, ok := scanPayload(body)
	if !ok {
		return invalidBody("All object keys must match")
	}
	req.Payload = p
	return nil
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// scanPayload finds the keys of a valid JSON body: an object's keys, or the keys shared by every object of an
// array (false when an element is not an object or the key sets differ). Anything else is an empty array.
func scanPayload(b []byte) (*Payload, bool) {
	s := scanner{b: b}
	s.ws()
	switch s.peek() {
	case '{':
		keys := s.objectKeys(nil)
		slices.Sort(keys)
		return &Payload{JSON: b, Object: true, Keys: slices.Compact(keys)}, true
	case '[':
		s.i++
		var first []string
		var keys []string
		n := 0
		for {
			s.ws()
			if s.peek() == ']' {
				break
			}
			if s.peek() != '{' {
				return nil, false
			}
			keys = s.objectKeys(keys[:0])
			slices.Sort(keys)
			keys = slices.Compact(keys)
			if n == 0 {
				first = slices.Clone(keys)
			} else if !slices.Equal(first, keys) {
				return nil, false
			}
			n++
			s.ws()
			if s.peek() == ',' {
				s.i++
			}
		}
		if first == nil {
			first = []string{}
		}
		return &Payload{JSON: b, Keys: first}, true
	default:
		return &Payload{JSON: []byte("[]"), Keys: []string{}}, true
	}
}

// scanner walks JSON already checked by json.Valid.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// objectKeys reads an object at s.i, appending its keys to dst.
func (s *scanner) objectKeys(dst []string) []string {
	s.i++ // '{'
	for {
		s.ws()
		if s.peek() == '}' {
			s.i++
			return dst
		}
		dst = append(dst, s.str())
		s.ws()
		s.i++ // ':'
		s.ws()
		s.skipValue()
		s.ws()
		if s.peek() == ',' {
			s.i++
		}
	}
}

// str reads a string at s.i and returns its decoded value.
func (s *scanner) str() string {
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		s.i++
		if c == '\\' {
			escaped = true
			s.i++
			continue
		}
		if c == '"' {
			break
		}
	}
	raw := s.b[start:s.i]
	if !escaped {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	_ = json.Unmarshal(raw, &v)
	return v
}

// skipValue moves past one value.
func (s *scanner) skipValue() {
	switch s.peek() {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			c := s.b[s.i]
			switch c {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

// csvToJSON converts a CSV body with a header row into a JSON array of objects; the unquoted or quoted value
// NULL becomes null, as in PostgREST.
func csvToJSON(body []byte) ([]byte, []string, error) {
	r := csv.NewReader(bytes.NewReader(body))
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return []byte("[]"), []string{}, nil
		}
		return nil, nil, invalidBody(csvError(err))
	}
	keys := slices.Clone(header)
	slices.Sort(keys)
	if len(slices.Compact(slices.Clone(keys))) != len(keys) {
		return nil, nil, invalidBody("All lines must have same number of fields")
	}
	out := make([]byte, 0, len(body)*2)
	out = append(out, '[')
	n := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, invalidBody(csvError(err))
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, '{')
		for i, v := range rec {
			if i > 0 {
				out = append(out, ',')
			}
			out = apierr.AppendJSONString(out, header[i])
			out = append(out, ':')
			if v == "NULL" {
				out = append(out, "null"...)
			} else {
				out = apierr.AppendJSONString(out, v)
			}
		}
		out = append(out, '}')
	}
	out = append(out, ']')
	return out, keys, nil
}

func csvError(err error) string {
	if errors.Is(err, csv.ErrFieldCount) {
		return "All lines must have same number of fields"
	}
	return "parse error: " + err.Error()
}

// formToJSON converts an application/x-www-form-urlencoded body into one JSON object of strings (the last of
// repeated keys wins).
func formToJSON(body []byte) ([]byte, []string, error) {
	vals := map[string]string{}
	var order []string
	for _, pair := range strings.Split(string(body), "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		var err error
		if k, err = url.QueryUnescape(k); err != nil || !utf8.ValidString(k) {
			return nil, nil, invalidBody("Empty or invalid form data")
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, nil, invalidBody("Empty or invalid form data")
		}
		if _, seen := vals[k]; !seen {
			order = append(order, k)
		}
		vals[k] = v
	}
	out := []byte{'{'}
	for i, k := range order {
		if i > 0 {
			out = append(out, ',')
		}
		out = apierr.AppendJSONString(out, k)
		out = append(out, ':')
		out = apierr.AppendJSONString(out, vals[k])
	}
	out = append(out, '}')
	slices.Sort(order)
	if order == nil {
		order = []string{}
	}
	return out, order, nil
}
