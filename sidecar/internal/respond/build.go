package respond

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Result is what a request's statements reported, as dbexec hands it over.
type Result struct {
	Total     int64 // the count asked for (-1: none)
	PageTotal int64 // rows of the page, or affected rows
	Estimate  int64 // the planner's estimate (-1: not asked)
	Location  []byte
	Inserted  int64
	// GUCHeaders and GUCStatus are response.headers and response.status as the statements left them (nil:
	// unset).
	GUCHeaders, GUCStatus []byte
	// Streamed: the body is sent as it is read, its rows not yet counted (PageTotal unknown).
	Streamed bool
	// Empty: a one-object response had no row (the body is written as null).
	Empty bool
}

// Response is a response's status line and headers (the body is the database's bytes, written by the caller).
type Response struct {
	Status  int
	Headers []Header
	// SkipBody: no body (HEAD, or a response without content).
	SkipBody bool
}

func (r *Response) set(k, v string) {
	for i := range r.Headers {
		if strings.EqualFold(r.Headers[i][0], k) {
			r.Headers[i][1] = v
			return
		}
	}
	r.Headers = append(r.Headers, Header{k, v})
}

func (r *Response) add(k, v string) { r.Headers = append(r.Headers, Header{k, v}) }

// Build decides the whole response to a planned request from what its statements reported: status,
// Content-Type, Content-Range and Content-Location, Location, Preference-Applied, the deprecation Warning, and
// last the response.headers and response.status GUCs, which override them as in PostgREST. query is the raw
// query string (Content-Location).
func Build(a *plan.Action, req *request.Request, r Result, query string) (Response, error) {
	var out Response
	var err error
	switch a.Kind {
	case plan.KindRead:
		out, err = read(a, a.Read, req, r, query)
	case plan.KindCall:
		out, err = call(a, req, r)
	case plan.KindMutate:
		out = write(a, req, r)
	case plan.KindInfo:
		out = Response{Status: http.StatusOK, Headers: []Header{{"Allow", a.Info.Allow},
			{"Access-Control-Allow-Origin", "*"}}, SkipBody: true}
	}
	if err != nil {
		return out, err
	}
	if a.Warning != "" {
		out.set("Warning", "299 pgway "+quotedString(a.Warning))
	}
	if req.Head {
		out.SkipBody = true
	}
	return out, applyGUCs(&out, r.GUCHeaders, r.GUCStatus)
}

// total is the count to report: the exact count, the planner's estimate (count=planned), or for
// count=estimated the larger of the (limited) exact count and the estimate above db-max-rows, or always when
// there is no db-max-rows, as PostgREST does.
func total(p *plan.Read, r Result) int64 {
	switch {
	case p == nil:
		return r.Total
	case p.Count == request.CountPlanned:
		return r.Estimate
	case p.Count == request.CountEstimated && (p.MaxRows == 0 || r.Total > p.MaxRows):
		return max(r.Total, r.Estimate)
	}
	return r.Total
}

func read(a *plan.Action, p *plan.Read, req *request.Request, r Result, query string) (Response, error) {
	var out Response
	if p.Media == request.MediaPlan {
		return Response{Status: http.StatusOK, Headers: []Header{{"Content-Type", ContentType(req.Accept, req.Plan)}}}, nil
	}
	ct := Header{"Content-Type", ContentType(req.Accept, req.Plan)}
	if p.Handler != nil {
		ct[1] = CustomContentType(p.Handler.Media)
	}
	head, err := page(req, p.Offset, p.Limit, r.PageTotal, total(p, r), a.TxApplied, r.Streamed,
		append(make([]Header, 0, 4), ct))
	if err != nil {
		return out, err
	}
	out.Status, out.Headers = head.Status, head.Headers
	out.add("Content-Location", ContentLocation(req.Relation, query))
	return out, nil
}

// page is Read for a page whose row count may be unknown (a streamed body): with a count, the page's extent
// follows from the offset, the limit and the total; without one, Content-Range is left out. The headers are
// appended to hs.
func page(req *request.Request, offset, limit, pageTotal, total int64, txApplied string, streamed bool, hs []Header) (Head, *apierr.Error) {
	if !streamed {
		return readHead(req, ReadResult{Offset: offset, PageTotal: pageTotal, Total: total, TxApplied: txApplied}, hs)
	}
	if total < 0 {
		h := Head{Status: http.StatusOK, Headers: hs}
		if v := readPreferences(req, txApplied); v != "" {
			h.Headers = append(h.Headers, Header{"Preference-Applied", v})
		}
		return h, nil
	}
	rows := max(total-offset, 0)
	if limit >= 0 {
		rows = min(rows, limit)
	}
	return readHead(req, ReadResult{Offset: offset, PageTotal: rows, Total: total, TxApplied: txApplied}, hs)
}

func call(a *plan.Action, req *request.Request, r Result) (Response, error) {
	c := a.Call
	switch {
	case c.Media == request.MediaPlan:
		return Response{Status: http.StatusOK, Headers: []Header{{"Content-Type", ContentType(req.Accept, req.Plan)}}}, nil
	case c.Void:
		return Response{Status: http.StatusNoContent, SkipBody: true}, nil
	case c.Media == request.MediaCustom:
		// The function's own media type (a handler domain): its value as is; response.headers may still set
		// Content-Type, as for the "*/*" handler.
		return Response{Status: http.StatusOK, Headers: []Header{{"Content-Type", CustomContentType(c.CustomMedia)}}}, nil
	}
	offset, limit := c.Offset, c.Limit
	if c.Read != nil {
		offset, limit = c.Read.Offset, c.Read.Limit
	}
	head, err := page(req, offset, limit, r.PageTotal, total(c.Read, r), a.TxApplied, r.Streamed, nil)
	if err != nil {
		return Response{}, err
	}
	out := Response{Status: head.Status}
	if c.Read != nil && c.Read.Handler != nil {
		out.add("Content-Type", CustomContentType(c.Read.Handler.Media))
	} else {
		out.add("Content-Type", ContentType(req.Accept, req.Plan))
	}
	out.Headers = append(out.Headers, head.Headers...)
	return out, nil
}

func write(a *plan.Action, req *request.Request, r Result) Response {
	m := a.Mutate
	head, withBody := Write(req, WriteResult{
		Relation:          m.Rel.Name,
		PageTotal:         r.PageTotal,
		Location:          r.Location,
		Inserted:          r.Inserted,
		ResolutionApplied: m.Resolution != "",
		TxApplied:         a.TxApplied,
	})
	out := Response{Status: head.Status, Headers: head.Headers, SkipBody: !withBody}
	if withBody {
		out.add("Content-Type", ContentType(req.Accept, req.Plan))
	}
	return out
}

// applyGUCs overrides the response's headers and status with response.headers and response.status, as
// PostgREST does (500 PGRST111/PGRST112 when they are malformed: not a JSON array of one-key objects with
// string values fit for a header, not a status code).
func applyGUCs(out *Response, headers, status []byte) error {
	if len(headers) > 0 {
		var hs []map[string]string
		if err := json.Unmarshal(headers, &hs); err != nil || !validGUCHeaders(hs) {
			return apierr.New(http.StatusInternalServerError, "PGRST111",
				"response.headers guc must be a JSON array composed of objects with a single key and a string value")
		}
		for _, h := range hs {
			for k, v := range h {
				if strings.EqualFold(k, "Set-Cookie") {
					out.add(k, v)
				} else {
					out.set(k, v)
				}
			}
		}
	}
	if len(status) > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(string(status)))
		if err != nil || n < 100 || n > 599 {
			return apierr.New(http.StatusInternalServerError, "PGRST112", "response.status guc must be a valid status code")
		}
		out.Status = n
	}
	return nil
}

// validGUCHeaders reports whether every object has one key, and names and values fit in an HTTP header
// (a token name; no control characters but tab in the value).
func validGUCHeaders(hs []map[string]string) bool {
	for _, h := range hs {
		if len(h) != 1 {
			return false
		}
		for k, v := range h {
			if k == "" || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) }) >= 0 {
				return false
			}
			if strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
				return false
			}
		}
	}
	return true
}

// quotedString renders s as an HTTP quoted-string (RFC 9110 5.6.4): '"' and '\' are escaped, control
// characters become spaces and invalid UTF-8 becomes U+FFFD.
func quotedString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x7f:
			b = append(b, ' ')
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return string(append(b, '"'))
}
