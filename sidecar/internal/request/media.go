package request

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pgway/pgway/internal/apierr"
)

// mtKind is a decoded media type (PostgREST's MediaType).
type mtKind uint8

const (
	mtOther mtKind = iota
	mtJSON
	mtGeoJSON
	mtCSV
	mtText
	mtXML
	mtOpenAPI
	mtURLEncoded
	mtOctet
	mtAny
	mtArrayStrip
	mtObject
	mtObjectStrip
	mtPlan
	mtNDJSON
)

// mediaType is a decoded media type; for plans, forType and the plan options are set.
type mediaType struct {
	kind    mtKind
	raw     string // original text (for mtOther)
	plan    PlanOptions
	forType *mediaType
}

var mimeOf = [...]string{
	mtJSON:        "application/json",
	mtGeoJSON:     "application/geo+json",
	mtCSV:         "text/csv",
	mtText:        "text/plain",
	mtXML:         "text/xml",
	mtOpenAPI:     "application/openapi+json",
	mtURLEncoded:  "application/x-www-form-urlencoded",
	mtOctet:       "application/octet-stream",
	mtAny:         "*/*",
	mtArrayStrip:  "application/vnd.pgrst.array+json;nulls=stripped",
	mtObject:      "application/vnd.pgrst.object+json",
	mtObjectStrip: "application/vnd.pgrst.object+json;nulls=stripped",
	mtNDJSON:      "application/x-ndjson",
}

// mime is PostgREST's toMime.
func (m mediaType) mime() string {
	switch m.kind {
	case mtOther:
		return m.raw
	case mtPlan:
		s := "application/vnd.pgrst.plan+" + m.plan.Format + `; for="` + m.forType.mime() + `"`
		var opts []string
		for _, o := range [...]struct {
			on   bool
			name string
		}{{m.plan.Analyze, "analyze"}, {m.plan.Verbose, "verbose"}, {m.plan.Settings, "settings"}, {m.plan.Buffers, "buffers"}, {m.plan.WAL, "wal"}} {
			if o.on {
				opts = append(opts, o.name)
			}
		}
		if len(opts) > 0 {
			s += "; options=" + strings.Join(opts, "|")
		}
		return s
	}
	return mimeOf[m.kind]
}

// tokenizeMediaType is PostgREST's tokenizeMediaType (type/subtype and ;key=value parameters).
func tokenizeMediaType(s string) (main, sub string, params [][2]string, ok bool) {
	i := 0
	isMain := func(r rune) bool { return isAlphaNum(r) || r == '.' || r == '*' }
	isSub := func(r rune) bool { return isAlphaNum(r) || strings.ContainsRune(".*+-", r) }
	j := scan(s, i, isMain)
	if j == i || j >= len(s) || s[j] != '/' {
		return "", "", nil, false
	}
	main = s[i:j]
	i = j + 1
	j = scan(s, i, isSub)
	if j == i {
		return "", "", nil, false
	}
	sub = s[i:j]
	i = j
	for {
		k, v, next, ok := keyVal(s, i)
		if !ok {
			break
		}
		params = append(params, [2]string{strings.ToLower(k), v})
		i = next
	}
	return main, sub, params, true
}

// keyVal parses `spaces ';' spaces key spaces '=' spaces value` at i (the try'd pSemicolonSeparatedKeyVals).
func keyVal(s string, i int) (k, v string, next int, ok bool) {
	i = skipSpaces(s, i)
	if i >= len(s) || s[i] != ';' {
		return "", "", 0, false
	}
	i = skipSpaces(s, i+1)
	j := scan(s, i, func(r rune) bool { return isAlphaNum(r) || r == '-' })
	if j == i {
		return "", "", 0, false
	}
	k = s[i:j]
	i = skipSpaces(s, j)
	if i >= len(s) || s[i] != '=' {
		return "", "", 0, false
	}
	i = skipSpaces(s, i+1)
	if i < len(s) && s[i] == '"' {
		if e := strings.IndexByte(s[i+1:], '"'); e >= 0 {
			return k, s[i+1 : i+1+e], i + e + 2, true
		}
	}
	j = scan(s, i, func(r rune) bool { return isAlphaNum(r) || r == '|' || r == '-' })
	if j == i {
		return "", "", 0, false
	}
	return k, s[i:j], j, true
}

func isAlphaNum(r rune) bool {
	if r < 0x80 {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func scan(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r := rune(s[i])
		w := 1
		if r >= 0x80 {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		if !f(r) {
			break
		}
		i += w
	}
	return i
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
		i++
	}
	return i
}

func param(params [][2]string, k string) (string, bool) {
	for _, p := range params {
		if p[0] == k {
			return p[1], true
		}
	}
	return "", false
}

// decodeMediaType is PostgREST's decodeMediaType.
func decodeMediaType(s string) mediaType {
	main, sub, params, ok := tokenizeMediaType(s)
	if !ok {
		return mediaType{kind: mtOther, raw: s}
	}
	main, sub = strings.ToLower(main), strings.ToLower(sub)
	stripped := func() bool { v, _ := param(params, "nulls"); return v == "stripped" }
	plan := func(format string) mediaType {
		forS, ok := param(params, "for")
		if !ok {
			forS = "application/json"
		}
		ft := decodeMediaType(forS)
		m := mediaType{kind: mtPlan, forType: &ft}
		m.plan.Format = format
		opts, _ := param(params, "options")
		for _, o := range strings.Split(opts, "|") {
			switch o {
			case "analyze":
				m.plan.Analyze = true
			case "verbose":
				m.plan.Verbose = true
			case "settings":
				m.plan.Settings = true
			case "buffers":
				m.plan.Buffers = true
			case "wal":
				m.plan.WAL = true
			}
		}
		return m
	}
	switch main {
	case "application":
		switch sub {
		case "json":
			return mediaType{kind: mtJSON}
		case "geo+json":
			return mediaType{kind: mtGeoJSON}
		case "openapi+json":
			return mediaType{kind: mtOpenAPI}
		case "x-www-form-urlencoded":
			return mediaType{kind: mtURLEncoded}
		case "octet-stream":
			return mediaType{kind: mtOctet}
		case "x-ndjson":
			return mediaType{kind: mtNDJSON}
		case "vnd.pgrst.plan", "vnd.pgrst.plan+text":
			return plan("text")
		case "vnd.pgrst.plan+json":
			return plan("json")
		case "vnd.pgrst.object+json", "vnd.pgrst.object":
			if stripped() {
				return mediaType{kind: mtObjectStrip}
			}
			return mediaType{kind: mtObject}
		case "vnd.pgrst.array+json", "vnd.pgrst.array":
			if stripped() {
				return mediaType{kind: mtArrayStrip}
			}
			return mediaType{kind: mtJSON}
		}
	case "text":
		switch sub {
		case "csv":
			return mediaType{kind: mtCSV}
		case "plain":
			return mediaType{kind: mtText}
		case "xml":
			return mediaType{kind: mtXML}
		}
	case "*":
		if sub == "*" {
			return mediaType{kind: mtAny}
		}
	}
	return mediaType{kind: mtOther, raw: s}
}

// parseAccept is wai-extra's parseHttpAccept: split on ',', drop spaces, order by quality then
// specificity (stable), and decode each media type.
func parseAccept(h string) []mediaType {
	type entry struct {
		s    string
		q    float64
		spec int
	}
	var entries []entry
	for _, part := range strings.Split(h, ",") {
		part = strings.ReplaceAll(part, " ", "")
		q := 1.0
		if i := strings.Index(part, ";q="); i >= 0 {
			qs := part[i+3:]
			if j := strings.IndexByte(qs, ';'); j >= 0 {
				qs = qs[:j]
			}
			q = readDouble(qs)
			part = part[:i]
		}
		entries = append(entries, entry{s: part, q: q, spec: strings.Count(part, ";") - strings.Count(part, "*")})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].q != entries[j].q {
			return entries[i].q > entries[j].q
		}
		return entries[i].spec > entries[j].spec
	})
	out := make([]mediaType, len(entries))
	for i, e := range entries {
		out[i] = decodeMediaType(e.s)
	}
	return out
}

// readDouble is `reads` for a Double: the longest numeric prefix, 1.0 when there is none.
func readDouble(s string) float64 {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d {
		return 1
	}
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 1
	}
	return f
}

// outputKind maps a decoded type to the response MediaType, reporting whether the action can produce it (geo:
// whether application/geo+json may be produced).
func (req *Request) outputKind(m mediaType, geo bool) (MediaType, bool) {
	switch m.kind {
	case mtJSON, mtAny:
		return MediaJSON, true
	case mtCSV:
		return MediaCSV, true
	case mtObject:
		return MediaObject, true
	case mtObjectStrip:
		return MediaObjectStripped, true
	case mtArrayStrip:
		return MediaArrayStripped, true
	case mtNDJSON:
		// pgway's newline-delimited JSON: rows of reads and calls, one JSON object per line.
		return MediaNDJSON, req.Action == ActionRead || req.Action == ActionCall
	case mtGeoJSON:
		// PostgREST's built-in geo+json handler: reads, calls and writes' representations; unless the database
		// has PostGIS, the plan negotiates again without it (WithoutGeoJSON).
		return MediaGeoJSON, geo
	case mtPlan:
		if _, ok := req.outputKind(*m.forType, geo); !ok || m.forType.kind == mtPlan {
			return 0, false
		}
		return MediaPlan, true
	}
	return 0, false
}

// WithoutGeoJSON negotiates the response media type again as if application/geo+json were not produced: the
// database has no PostGIS to render it. Its 406 (PGRST107) is returned, or for reads and calls kept in AcceptErr
// as Parse keeps it.
func (req *Request) WithoutGeoJSON() error {
	return req.negotiate(req.acceptHeader, false)
}

// negotiate picks the response media type from Accept (PostgREST's negotiateContent / inspectPlan); geo: whether
// application/geo+json may be produced.
func (req *Request) negotiate(accept string, geo bool) error {
	if req.Action == ActionInfo {
		req.Accept = MediaJSON
		return nil
	}
	var accepts []mediaType
	if accept == "" {
		accepts = []mediaType{{kind: mtAny}}
	} else if accept == "application/json" {
		accepts = []mediaType{{kind: mtJSON}}
	} else {
		accepts = parseAccept(accept)
	}
	req.acceptHeader = accept
	if req.Action == ActionCall || req.Action == ActionRead {
		req.AcceptIndex = -1
	}
	for i, m := range accepts {
		if req.Action == ActionSchema {
			if m.kind == mtOpenAPI || m.kind == mtJSON || m.kind == mtAny {
				req.Accept = MediaOpenAPI
				return nil
			}
			continue
		}
		if k, ok := req.outputKind(m, geo); ok {
			req.Accept = k
			req.AcceptIndex = i
			if k == MediaPlan {
				req.Plan = m.plan
				if m.forType.kind != mtJSON {
					req.Plan.For = m.forType.mime()
				}
			}
			return nil
		}
	}
	names := make([]string, len(accepts))
	for i, m := range accepts {
		names[i] = m.mime()
	}
	err := apierr.New(http.StatusNotAcceptable, "PGRST107", "None of these media types are available: "+strings.Join(names, ", "))
	if req.Action == ActionCall || req.Action == ActionRead {
		req.AcceptErr = err // the function or relation may have a handler for one of them
		return nil
	}
	return err
}

// AcceptHeader is the request's Accept header as sent.
func (req *Request) AcceptHeader() string { return req.acceptHeader }

// AcceptList is the Accept header's media types in preference order (reads and RPC only), for the plan to
// look for media type handlers; computed on demand so requests without handlers never build it.
func (req *Request) AcceptList() []AcceptedMedia {
	if req.Action != ActionCall && req.Action != ActionRead {
		return nil
	}
	var accepts []mediaType
	switch req.acceptHeader {
	case "":
		accepts = []mediaType{{kind: mtAny}}
	case "application/json":
		accepts = []mediaType{{kind: mtJSON}}
	default:
		accepts = parseAccept(req.acceptHeader)
	}
	out := make([]AcceptedMedia, len(accepts))
	for i, m := range accepts {
		out[i] = AcceptedMedia{Mime: strings.ToLower(m.mime()),
			Vendored: m.kind == mtObject || m.kind == mtObjectStrip || m.kind == mtArrayStrip || m.kind == mtPlan}
	}
	return out
}

// setContentType decodes Content-Type (default application/json) and, for requests whose body PostgREST
// parses (insert, update, upsert, POST /rpc), rejects media types it cannot read (400 PGRST102).
func (req *Request) setContentType(h string) error {
	m := mediaType{kind: mtJSON}
	if h != "" {
		m = decodeMediaType(h)
	}
	req.ContentType = m.mime()
	var ok bool
	switch req.Action {
	case ActionInsert, ActionUpdate, ActionUpsert:
		ok = m.kind == mtJSON || m.kind == mtCSV || m.kind == mtURLEncoded
	case ActionCall:
		if req.Method != "POST" {
			return nil
		}
		ok = m.kind == mtJSON || m.kind == mtCSV || m.kind == mtURLEncoded || m.kind == mtText || m.kind == mtXML || m.kind == mtOctet
	default:
		return nil
	}
	if !ok {
		return apierr.New(http.StatusBadRequest, "PGRST102", "Content-Type not acceptable: "+req.ContentType)
	}
	return nil
}
