package request_test

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/pgway/pgway/internal/apierr"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// TestRangeOverflow: numbers too large for int64 in Range, limit=, offset=, rel.limit and Prefer: max-affected
// saturate at int64's bounds (past any table's rows) instead of wrapping around into a negative LIMIT or being
// ignored; negative ones keep PostgREST's errors.
func TestRangeOverflow(t *testing.T) {
	const max = math.MaxInt64
	tests := []struct {
		name   string
		in     request.Input
		ranges []request.RangeSpec
		code   string // expected error code ("" for none)
	}{
		{"range to int64 max", request.Input{Method: "GET", Path: "/items", Range: "0-9223372036854775807"},
			[]request.RangeSpec{{Offset: 0, Limit: max}}, ""},
		{"range beyond int64", request.Input{Method: "GET", Path: "/items", Range: "0-99999999999999999999"},
			[]request.RangeSpec{{Offset: 0, Limit: max}}, ""},
		{"range 1 to int64 max", request.Input{Method: "GET", Path: "/items", Range: "1-9223372036854775807"},
			[]request.RangeSpec{{Offset: 1, Limit: max}}, ""},
		{"range from beyond int64", request.Input{Method: "GET", Path: "/items", Range: "99999999999999999999-"},
			[]request.RangeSpec{{Offset: max, Limit: -1}}, ""},
		{"range both beyond int64", request.Input{Method: "GET", Path: "/items", Range: "99999999999999999999-99999999999999999999"},
			[]request.RangeSpec{{Offset: max, Limit: 1}}, ""},
		{"limit beyond int64", get("/items", "limit=99999999999999999999"),
			[]request.RangeSpec{{Offset: 0, Limit: max}}, ""},
		{"limit int64 max", get("/items", "limit=9223372036854775807"),
			[]request.RangeSpec{{Offset: 0, Limit: max}}, ""},
		{"offset beyond int64", get("/items", "offset=99999999999999999999"),
			[]request.RangeSpec{{Offset: max, Limit: -1}}, ""},
		{"offset and limit int64 max", get("/items", "offset=9223372036854775807&limit=9223372036854775807"),
			[]request.RangeSpec{{Offset: max, Limit: 1}}, ""},
		{"offset int64 max, limit 2", get("/items", "offset=9223372036854775807&limit=2"),
			[]request.RangeSpec{{Offset: max, Limit: 1}}, ""},
		{"range and limit beyond int64", request.Input{Method: "GET", Path: "/items", Query: "limit=99999999999999999999",
			Range: "5-99999999999999999999"}, []request.RangeSpec{{Offset: 5, Limit: max - 5}}, ""},
		{"embedded limit beyond int64", get("/items", "select=id,tags(*)&tags.limit=99999999999999999999&tags.offset=99999999999999999999"),
			[]request.RangeSpec{{Path: []string{"tags"}, Offset: max, Limit: 1}}, ""},
		{"limit below int64", get("/items", "limit=-99999999999999999999"), nil, "PGRST103"},
		// A negative top-level offset is intersected away with the Range header's [0, ∞), as PostgREST does.
		{"offset below int64", get("/items", "offset=-99999999999999999999"), nil, ""},
		{"embedded offset below int64", get("/items", "select=id,tags(*)&tags.offset=-99999999999999999999"), nil, "2201X"},
		{"embedded limit below int64", get("/items", "select=id,tags(*)&tags.limit=-99999999999999999999"), nil, "2201W"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := request.Parse(tt.in)
			if tt.code != "" {
				var ae *apierr.Error
				if !errors.As(err, &ae) || ae.Code != tt.code || ae.Status >= 500 {
					t.Fatalf("got %v, want a 4xx %s", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.Ranges, tt.ranges) {
				t.Errorf("ranges %+v, want %+v", req.Ranges, tt.ranges)
			}
		})
	}
}

// TestMaxAffectedOverflow: Prefer: max-affected beyond int64 saturates instead of being dropped.
func TestMaxAffectedOverflow(t *testing.T) {
	for _, tt := range []struct {
		prefer string
		want   int64
	}{
		{"max-affected=99999999999999999999", math.MaxInt64},
		{"max-affected=9223372036854775807", math.MaxInt64},
		{"max-affected=5", 5},
		{"max-affected=-99999999999999999999", -1}, // negative: unset
		{"max-affected=x", -1},
	} {
		req, err := request.Parse(request.Input{Method: "PATCH", Path: "/items", Prefer: "handling=strict, " + tt.prefer,
			ContentType: "application/json", Body: []byte(`{}`)})
		if err != nil {
			t.Fatalf("%s: %v", tt.prefer, err)
		}
		if req.Prefer.MaxAffected != tt.want {
			t.Errorf("%s: MaxAffected %d, want %d", tt.prefer, req.Prefer.MaxAffected, tt.want)
		}
	}
}
