package respond_test

import (
	"testing"

	"github.com/pgway/pgway/sidecar/internal/request"
	"github.com/pgway/pgway/sidecar/internal/respond"
)

func TestContentRange(t *testing.T) {
	for _, tc := range []struct {
		lower, upper, total int64
		want                string
	}{
		{0, 24, -1, "0-24/*"},
		{0, 24, 3573, "0-24/3573"},
		{0, -1, -1, "*/*"},
		{0, -1, 0, "*/0"},
		{5, 4, 5, "*/5"},
		{10, 14, 100, "10-14/100"},
	} {
		if got := respond.ContentRange(tc.lower, tc.upper, tc.total); got != tc.want {
			t.Errorf("ContentRange(%d,%d,%d) = %q, want %q", tc.lower, tc.upper, tc.total, got, tc.want)
		}
	}
}

func TestReadStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    respond.ReadResult
		accept request.MediaType
		status int
		code   string
	}{
		{"unknown total", respond.ReadResult{PageTotal: 3, Total: -1}, request.MediaJSON, 200, ""},
		{"whole", respond.ReadResult{PageTotal: 3, Total: 3}, request.MediaJSON, 200, ""},
		{"partial", respond.ReadResult{PageTotal: 2, Total: 3}, request.MediaJSON, 206, ""},
		{"past the end", respond.ReadResult{Offset: 10, PageTotal: 0, Total: 3}, request.MediaJSON, 0, "PGRST103"},
		{"object of none", respond.ReadResult{PageTotal: 0, Total: -1}, request.MediaObject, 0, "PGRST116"},
		{"object of two", respond.ReadResult{PageTotal: 2, Total: -1}, request.MediaObject, 0, "PGRST116"},
		{"object of one", respond.ReadResult{PageTotal: 1, Total: -1}, request.MediaObject, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := respond.Read(&request.Request{Accept: tc.accept}, tc.res)
			if tc.code != "" {
				if err == nil || err.Code != tc.code {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Status != tc.status {
				t.Fatalf("status %d, want %d", h.Status, tc.status)
			}
		})
	}
}
