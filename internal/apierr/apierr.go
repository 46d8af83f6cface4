// Package apierr is pgway's one error type: a PostgREST error code, an HTTP status and the JSON error object.
package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is a client-visible error in PostgREST's shape ({"code","message","details","hint"}).
type Error struct {
	Status  int    // HTTP status
	Code    string // PostgREST code (PGRSTnnn) or SQLSTATE
	Message string
	Details string // empty renders as null
	Hint    string // empty renders as null
	// DetailsJSON, when set, is rendered as the details value instead of Details (e.g. PGRST201's array).
	DetailsJSON []byte
	// Headers are extra response headers (e.g. WWW-Authenticate).
	Headers [][2]string
	// Err is the underlying cause, if any (logged, never rendered).
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// New builds an Error.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// WithDetails returns e with details set.
func (e *Error) WithDetails(d string) *Error { e.Details = d; return e }

// WithHint returns e with hint set.
func (e *Error) WithHint(h string) *Error { e.Hint = h; return e }

// WithHeader returns e with an extra response header.
func (e *Error) WithHeader(k, v string) *Error {
	e.Headers = append(e.Headers, [2]string{k, v})
	return e
}

// JSON renders the PostgREST error object.
func (e *Error) JSON() []byte {
	b := make([]byte, 0, 96+len(e.Message)+len(e.Details)+len(e.Hint))
	b = append(b, `{"code":`...)
	b = AppendJSONString(b, e.Code)
	b = append(b, `,"details":`...)
	if e.DetailsJSON != nil {
		b = append(b, e.DetailsJSON...)
	} else {
		b = appendNullable(b, e.Details)
	}
	b = append(b, `,"hint":`...)
	b = appendNullable(b, e.Hint)
	b = append(b, `,"message":`...)
	b = AppendJSONString(b, e.Message)
	b = append(b, '}')
	return b
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return AppendJSONString(b, s)
}

// AppendJSONString appends s as a JSON string literal. Bytes that are not valid UTF-8 (a request may carry
// any, e.g. a path of %ff%fe) become U+FFFD, so the output is always valid JSON text.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// Internal wraps an unexpected error as a 500 that reveals nothing of the cause.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "PGWAY500", Message: "Internal server error", Err: err}
}

// As extracts an *Error from err, converting PostgreSQL errors and wrapping anything else as Internal.
// authenticated tells whether the request ran as a JWT role (42501 is 403) or as the anon role (401).
func As(err error, authenticated bool) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return FromPg(pe, authenticated)
	}
	return Internal(err)
}

// FromPg maps a PostgreSQL error to PostgREST's status and JSON object.
func FromPg(pe *pgconn.PgError, authenticated bool) *Error {
	if pe.Code == "PGRST" {
		return fromRaise(pe)
	}
	e := &Error{Status: PgStatus(pe.Code, authenticated), Code: pe.Code, Message: pe.Message, Details: pe.Detail, Hint: pe.Hint, Err: pe}
	switch {
	case pe.Code == "22023" && strings.HasPrefix(pe.Message, "role") && strings.HasSuffix(pe.Message, "does not exist"):
		e.Status = http.StatusUnauthorized // the JWT names a role that does not exist
	case pe.Code == "21000" && !strings.HasSuffix(pe.Message, "requires a WHERE clause"):
		e.Status = http.StatusInternalServerError // e.g. a subquery returned more than one row (pg-safeupdate stays 400)
	}
	if pe.Code == "42501" && !authenticated {
		e.Headers = append(e.Headers, [2]string{"WWW-Authenticate", "Bearer"})
	}
	// RAISE SQLSTATE 'PTxyz': the status is the code's digits (PostgREST's custom status).
	if strings.HasPrefix(pe.Code, "PT") && len(pe.Code) == 5 {
		e.Status = http.StatusInternalServerError // PTxyz without a valid status
		if n, err := strconv.Atoi(pe.Code[2:]); err == nil && n >= 100 && n <= 599 {
			e.Status = n
		}
	}
	return e
}

// PgStatus is PostgREST's SQLSTATE → HTTP status table.
func PgStatus(code string, authenticated bool) int {
	switch code {
	case "23503", "23505":
		return 409
	case "25006":
		return 405
	case "P0001":
		return 400
	case "42883", "42P01":
		return 404
	case "42P17":
		return 500
	case "42501":
		if authenticated {
			return 403
		}
		return 401
	case "53400":
		return 500
	case "57P01":
		return 503
	}
	if len(code) < 2 {
		return 500
	}
	switch code[:2] {
	case "08", "53":
		return 503
	case "0L", "0P", "28":
		return 403
	case "09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX":
		return 500
	}
	return 400
}

// fromRaise decodes PostgREST's RAISE SQLSTATE 'PGRST': the message is the JSON error object, the detail a JSON
// object with the HTTP status and extra headers (500 PGRST121 when either does not parse).
func fromRaise(pe *pgconn.PgError) *Error {
	var msg struct {
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Details *string `json:"details"`
		Hint    *string `json:"hint"`
	}
	var det struct {
		Status  *int              `json:"status"`
		Headers map[string]string `json:"headers"`
	}
	bad := func(details, hint string) *Error {
		e := New(http.StatusInternalServerError, "PGRST121", `Could not parse JSON in the "RAISE SQLSTATE 'PGRST'" error`)
		e.Details, e.Hint, e.Err = details, hint, pe
		return e
	}
	if json.Unmarshal([]byte(pe.Message), &msg) != nil || msg.Code == "" && msg.Message == "" {
		return bad("Invalid JSON value for MESSAGE: '"+pe.Message+"'",
			"MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.")
	}
	if pe.Detail == "" {
		return bad("DETAIL is missing in the RAISE statement",
			"DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.")
	}
	if json.Unmarshal([]byte(pe.Detail), &det) != nil || det.Status == nil {
		return bad("Invalid JSON value for DETAIL: '"+pe.Detail+"'",
			"DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.")
	}
	e := &Error{Status: *det.Status, Code: msg.Code, Message: msg.Message, Err: pe}
	if msg.Details != nil {
		e.Details = *msg.Details
	}
	if msg.Hint != nil {
		e.Hint = *msg.Hint
	}
	for k, v := range det.Headers {
		e.Headers = append(e.Headers, [2]string{k, v})
	}
	return e
}
