// Package respond turns a statement's result and the request into status, headers and body, PostgREST's way.
package respond

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Header is one response header.
type Header [2]string

// Head is the status line and headers of a response; the body is the database's bytes, written by the caller.
type Head struct {
	Status  int
	Headers []Header
}

// ContentType is the Content-Type header for a media type.
func ContentType(m request.MediaType, plan request.PlanOptions) string {
	switch m {
	case request.MediaObject:
		return "application/vnd.pgrst.object+json; charset=utf-8"
	case request.MediaObjectStripped:
		return "application/vnd.pgrst.object+json; nulls=stripped; charset=utf-8"
	case request.MediaArrayStripped:
		return "application/vnd.pgrst.array+json; nulls=stripped; charset=utf-8"
	case request.MediaCSV:
		return "text/csv; charset=utf-8"
	case request.MediaPlan:
		f := "text"
		if plan.Format == "json" {
			f = "json"
		}
		forMT := plan.For
		if forMT == "" {
			forMT = "application/json"
		}
		return "application/vnd.pgrst.plan+" + f + "; for=\"" + forMT + "\"; charset=utf-8"
	case request.MediaOpenAPI:
		return "application/openapi+json; charset=utf-8"
	case request.MediaNDJSON:
		return "application/x-ndjson; charset=utf-8"
	case request.MediaGeoJSON:
		return "application/geo+json; charset=utf-8"
	default:
		return "application/json; charset=utf-8"
	}
}

// CustomContentType is the Content-Type for a function's own media type (a domain named like one):
// "*/*" is sent as application/octet-stream, PostgREST's text types get a charset, others are as named.
func CustomContentType(mime string) string {
	switch mime {
	case "*/*":
		return "application/octet-stream"
	case "text/plain", "text/xml", "text/csv", "application/json", "application/geo+json":
		return mime + "; charset=utf-8"
	}
	return mime
}

// ReadResult is what the read statement reported.
type ReadResult struct {
	Offset    int64
	PageTotal int64
	Total     int64 // -1 when not counted
	// TxApplied is "commit" or "rollback" when a Prefer: tx= was honoured.
	TxApplied string
}

// Read decides status and headers of a read: Content-Range, 206 for a partial page of a known total,
// 416 PGRST103 past the end, 406 PGRST116 when one object was requested and the page is not exactly one row.
func Read(req *request.Request, r ReadResult) (Head, *apierr.Error) { return readHead(req, r, nil) }

// readHead is Read with its headers appended to hs.
func readHead(req *request.Request, r ReadResult, hs []Header) (Head, *apierr.Error) {
	h := Head{Status: http.StatusOK, Headers: hs}
	lower := r.Offset
	upper := lower + r.PageTotal - 1
	if r.Total >= 0 {
		switch {
		case lower > r.Total:
			return h, apierr.New(http.StatusRequestedRangeNotSatisfiable, "PGRST103", "Requested range not satisfiable").
				WithDetails("An offset of "+strconv.FormatInt(lower, 10)+" was requested, but there are only "+
					strconv.FormatInt(r.Total, 10)+" rows.").
				WithHeader("Content-Range", "*/"+strconv.FormatInt(r.Total, 10))
		case 1+upper-lower < r.Total:
			h.Status = http.StatusPartialContent
		}
	}
	if req.Accept == request.MediaObject || req.Accept == request.MediaObjectStripped {
		if r.PageTotal != 1 {
			return h, Singularity(r.PageTotal)
		}
	}
	h.Headers = append(h.Headers, Header{"Content-Range", ContentRange(lower, upper, r.Total)})
	if v := readPreferences(req, r.TxApplied); v != "" {
		h.Headers = append(h.Headers, Header{"Preference-Applied", v})
	}
	return h, nil
}

// Singularity is PGRST116: the object media type needs exactly one row.
func Singularity(n int64) *apierr.Error {
	return apierr.New(http.StatusNotAcceptable, "PGRST116", "Cannot coerce the result to a single JSON object").
		WithDetails("The result contains " + strconv.FormatInt(n, 10) + " rows")
}

func countName(c request.Count) string {
	switch c {
	case request.CountExact:
		return "exact"
	case request.CountPlanned:
		return "planned"
	default:
		return "estimated"
	}
}

// ContentRange is PostgREST's Content-Range value: "lower-upper/total", "*" for an empty page or zero total,
// and "*" for an unknown total.
func ContentRange(lower, upper, total int64) string {
	var buf [64]byte
	b := buf[:0]
	if total != 0 && lower <= upper {
		b = strconv.AppendInt(b, lower, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, upper, 10)
	} else {
		b = append(b, '*')
	}
	b = append(b, '/')
	if total >= 0 {
		b = strconv.AppendInt(b, total, 10)
	} else {
		b = append(b, '*')
	}
	return string(b)
}

// readPreferences lists the preferences a read honours, in PostgREST's order.
func readPreferences(req *request.Request, txApplied string) string {
	var vals []string
	if req.Prefer.Count != request.CountNone {
		vals = append(vals, "count="+countName(req.Prefer.Count))
	}
	if txApplied != "" {
		vals = append(vals, "tx="+txApplied)
	}
	if req.Prefer.Handling != "" {
		vals = append(vals, "handling="+req.Prefer.Handling)
	}
	if req.Prefer.Timezone != "" {
		vals = append(vals, "timezone="+req.Prefer.Timezone)
	}
	return strings.Join(vals, ", ")
}
