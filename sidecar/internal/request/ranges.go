package request

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/apierr"
)

// rng is a range of row indexes [lo, hi] (hi unbounded when inf), PostgREST's NonnegRange.
type rng struct {
	lo, hi int64
	inf    bool
}

var allRange = rng{inf: true}

func (r rng) empty() bool { return !r.inf && r.hi < r.lo }

func (r rng) isAll() bool { return r.inf && r.lo == 0 }

func intersect(a, b rng) rng {
	if a.empty() || b.empty() {
		return rng{lo: 1, hi: 0} // emptyRange
	}
	out := rng{lo: max(a.lo, b.lo), inf: a.inf && b.inf}
	switch {
	case a.inf:
		out.hi = b.hi
	case b.inf:
		out.hi = a.hi
	default:
		out.hi = min(a.hi, b.hi)
	}
	return out
}

// readInteger is Haskell's readMaybe for an Integer: optional surrounding spaces and a leading '-'.
// PostgREST's Integer is unbounded; a number beyond int64 saturates at math.MaxInt64 (math.MinInt64), which
// is past any row count or offset a table can have, so the rows answered are the same.
func readInteger(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] == '+' {
		return 0, false
	}
	return parseSaturating(s)
}

// parseSaturating parses a decimal integer, clamping one too large for int64 to its bounds (strconv.ParseInt
// returns the bound with ErrRange).
func parseSaturating(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return n, true
}

// addSat is a + b clamped to int64's bounds instead of wrapping around.
func addSat(a, b int64) int64 {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}

// limitRange is restrictRange (readMaybe v) allRange.
func (r rawRange) limitRange() rng {
	if !r.hasL {
		return allRange
	}
	l, ok := readInteger(r.limit)
	if !ok {
		return allRange
	}
	return rng{lo: 0, hi: addSat(l, -1)}
}

// offsetRange is maybe allRange rangeGeq (readMaybe v).
func (r rawRange) offsetRange() rng {
	if !r.hasO {
		return allRange
	}
	o, ok := readInteger(r.offset)
	if !ok {
		return allRange
	}
	return rng{lo: o, inf: true}
}

// merged combines limit and offset as PostgREST's HM.unionWith does.
func (r rawRange) merged() rng {
	switch {
	case r.hasL && r.hasO:
		lr, or := r.limitRange(), r.offsetRange()
		l := int64(0)
		if !lr.inf {
			l = addSat(lr.hi-lr.lo, 1) // lr.lo is 0
		}
		return rng{lo: or.lo, hi: addSat(or.lo, addSat(l, -1))}
	case r.hasL:
		return r.limitRange()
	default:
		return r.offsetRange()
	}
}

// parseRangeHeader is rangeParse: "^([0-9]+)-([0-9]*)$", anything else is the whole range.
func parseRangeHeader(h string) rng {
	i := strings.IndexByte(h, '-')
	if i <= 0 || !allDigits(h[:i]) || !allDigits(h[i+1:]) {
		return allRange
	}
	lo, ok := parseSaturating(h[:i])
	if !ok {
		return allRange
	}
	if h[i+1:] == "" {
		return rng{lo: lo, inf: true}
	}
	hi, ok := parseSaturating(h[i+1:])
	if !ok {
		return allRange
	}
	return rng{lo: lo, hi: hi}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func toSpec(path []string, r rng) (RangeSpec, error) {
	if r.lo < 0 {
		return RangeSpec{}, apierr.New(http.StatusBadRequest, "2201X", "OFFSET must not be negative")
	}
	s := RangeSpec{Path: path, Offset: r.lo, Limit: -1}
	if !r.inf {
		s.Limit = addSat(r.hi-r.lo, 1) // r.lo >= 0: the difference cannot overflow
		if s.Limit < 0 {
			return RangeSpec{}, apierr.New(http.StatusBadRequest, "2201W", "LIMIT must not be negative")
		}
	}
	return s, nil
}

// setRanges computes the top-level range from limit/offset and the Range header (GET only), as
// PostgREST's getRanges does, and the embedded ranges.
func (req *Request) setRanges(p *parser, in Input, raws []rawRange) error {
	limitRange := allRange
	for _, r := range raws {
		if r.key == "limit" {
			limitRange = r.merged()
		}
	}
	headerRange := allRange
	if in.Method == "GET" && in.Range != "" {
		headerRange = parseRangeHeader(in.Range)
	}
	hasLimitZero := !limitRange.inf && limitRange.hi == -1
	top := intersect(headerRange, limitRange)
	if hasLimitZero {
		top = rng{lo: 0, hi: -1}
	}
	if top.empty() && !hasLimitZero {
		details := "Limit should be greater than or equal to zero."
		if headerRange.empty() {
			details = "The lower boundary must be lower than or equal to the upper boundary in the Range header."
		}
		return apierr.New(http.StatusRequestedRangeNotSatisfiable, "PGRST103", "Requested range not satisfiable").
			WithDetails(details)
	}
	if in.Method == "PUT" && !top.isAll() {
		return apierr.New(http.StatusBadRequest, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")
	}
	if !top.isAll() {
		s, err := toSpec(nil, top)
		if err != nil {
			return err
		}
		req.Ranges = append(req.Ranges, s)
	}
	for _, r := range raws {
		if r.key == "limit" {
			continue
		}
		path, err := parseTreePath(p, r.key)
		if err != nil {
			return err
		}
		m := r.merged()
		if m.isAll() {
			continue
		}
		s, err := toSpec(path, m)
		if err != nil {
			return err
		}
		req.Ranges = append(req.Ranges, s)
	}
	return nil
}
