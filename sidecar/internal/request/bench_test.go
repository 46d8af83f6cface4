package request_test

import (
	"testing"

	"github.com/pgway/pgway/sidecar/internal/request"
)

// BenchmarkParse measures a typical read.
func BenchmarkParse(b *testing.B) {
	in := request.Input{
		Method: "GET",
		Path:   "/items",
		Query:  "select=id,name,price&price=gt.10&order=id&limit=25",
		Accept: "application/json",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := request.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
