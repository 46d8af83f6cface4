package respond

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pgway/pgway/sidecar/internal/request"
)

// WriteResult is what a write statement reported.
type WriteResult struct {
	Relation  string
	PageTotal int64
	// Location is the JSON array of [column, value] pairs of the inserted row's key (nil if none).
	Location []byte
	// Inserted counts rows inserted rather than updated by an upsert (-1 when not tracked).
	Inserted int64
	// Preferences applied: the resolution is reported only for inserts into a relation with a key or on_conflict.
	ResolutionApplied bool
	// TxApplied is "commit" or "rollback" when a Prefer: tx= was honoured.
	TxApplied string
}

// Write decides status and headers of a write, as PostgREST's Response for MutationCreate/Update/SingleUpsert/
// Delete. WithBody reports whether the representation is sent (the caller adds Content-Type).
func Write(req *request.Request, r WriteResult) (h Head, withBody bool) {
	rep := req.Prefer.Return == "representation"
	total := int64(-1)
	if req.Prefer.Count == request.CountExact || req.Prefer.Count == request.CountPlanned || req.Prefer.Count == request.CountEstimated {
		total = r.PageTotal
	}
	switch req.Action {
	case request.ActionInsert:
		h.Status = http.StatusCreated
		// An upsert that inserted nothing (all rows merged, or no rows: the counter stays NULL) is 200.
		if r.ResolutionApplied && r.Inserted <= 0 && req.Prefer.Resolution == "merge-duplicates" {
			h.Status = http.StatusOK
		}
		if loc := location(r.Relation, r.Location); loc != "" {
			h.Headers = append(h.Headers, Header{"Location", loc})
		}
		h.Headers = append(h.Headers, Header{"Content-Range", ContentRange(1, 0, total)})
	case request.ActionUpdate:
		h.Status = http.StatusNoContent
		if rep {
			h.Status = http.StatusOK
		}
		h.Headers = append(h.Headers, Header{"Content-Range", ContentRange(0, r.PageTotal-1, total)})
	case request.ActionUpsert:
		h.Status = http.StatusNoContent
		if rep {
			h.Status = http.StatusOK
			if r.Inserted > 0 {
				h.Status = http.StatusCreated
			}
		}
	case request.ActionDelete:
		h.Status = http.StatusNoContent
		if rep {
			h.Status = http.StatusOK
		}
		h.Headers = append(h.Headers, Header{"Content-Range", ContentRange(1, 0, total)})
	}
	if v := preferenceApplied(req, r); v != "" {
		h.Headers = append(h.Headers, Header{"Preference-Applied", v})
	}
	return h, rep
}

// preferenceApplied lists the honoured preferences in PostgREST's order.
func preferenceApplied(req *request.Request, r WriteResult) string {
	p := &req.Prefer
	var vals []string
	if req.Action == request.ActionInsert && r.ResolutionApplied && p.Resolution != "" {
		vals = append(vals, "resolution="+p.Resolution)
	}
	if (req.Action == request.ActionInsert || req.Action == request.ActionUpdate) && p.Missing != "" {
		vals = append(vals, "missing="+p.Missing)
	}
	if p.Return != "" {
		vals = append(vals, "return="+p.Return)
	}
	if p.Count != request.CountNone {
		vals = append(vals, "count="+countName(p.Count))
	}
	if r.TxApplied != "" {
		vals = append(vals, "tx="+r.TxApplied)
	}
	if p.Handling != "" {
		vals = append(vals, "handling="+p.Handling)
	}
	if p.Timezone != "" {
		vals = append(vals, "timezone="+p.Timezone)
	}
	if p.Handling == "strict" && p.MaxAffected >= 0 && (req.Action == request.ActionUpdate || req.Action == request.ActionDelete) {
		vals = append(vals, "max-affected="+strconv.FormatInt(p.MaxAffected, 10))
	}
	return strings.Join(vals, ", ")
}

// location renders PostgREST's Location header from the key pairs: /rel?k=eq.v (is.null for NULL keys).
func location(rel string, pairs []byte) string {
	if len(pairs) == 0 {
		return ""
	}
	var kv [][2]*string
	if err := json.Unmarshal(pairs, &kv); err != nil || len(kv) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("/")
	sb.WriteString(rel)
	for i, p := range kv {
		if p[0] == nil {
			continue
		}
		if i == 0 {
			sb.WriteString("?")
		} else {
			sb.WriteString("&")
		}
		sb.WriteString(url.QueryEscape(*p[0]))
		sb.WriteString("=")
		if p[1] == nil {
			sb.WriteString("is.null")
		} else {
			sb.WriteString(url.QueryEscape("eq." + *p[1]))
		}
	}
	return sb.String()
}
