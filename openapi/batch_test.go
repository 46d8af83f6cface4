package openapi_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgway/pgway/openapi"
)

// TestBatchDocument: with server-batch-max-operations set, POST / is described (operationId batch, its request
// in application/vnd.pgway.batch+json, its results and its failure); the documents validate, and are golden
// (testdata/batch-*.json, linted by lint.sh). Without it the root has only GET.
func TestBatchDocument(t *testing.T) {
	for _, tc := range []struct{ version, openapi string }{{"3.0", "3.0.3"}, {"3.1", "3.1.0"}} {
		t.Run(tc.version, func(t *testing.T) {
			doc := build(t, openapi.Options{Version: tc.version, Title: "Books", BatchMaxOperations: 50})
			root := doc.Paths.Value("/")
			if root == nil || root.Post == nil || root.Post.OperationID != "batch" || root.Get == nil {
				t.Fatalf("root path item: %+v", root)
			}
			body := root.Post.RequestBody.Value.Content[openapi.MediaBatch]
			if body == nil || body.Schema.Ref != "#/components/schemas/BatchRequest" {
				t.Fatalf("request body: %+v", root.Post.RequestBody.Value.Content)
			}
			if m := doc.Components.Schemas["BatchRequest"].Value.Properties["operations"].Value.MaxItems; m == nil || *m != 50 {
				t.Errorf("operations maxItems %v, want 50", m)
			}
			for _, s := range []string{"200", "400", "409", "413"} {
				if root.Post.Responses.Value(s) == nil {
					t.Errorf("no %s response", s)
				}
			}
			out, err := openapi.Marshal(doc, "json")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "batch-"+tc.version+".json", out)
			// Written directly (as served), in both formats: the same document.
			for _, format := range []string{"json", "yaml"} {
				want, err := openapi.Marshal(doc, format)
				if err != nil {
					t.Fatal(err)
				}
				var written bytes.Buffer
				opts := openapi.Options{Version: tc.version, Title: "Books", BatchMaxOperations: 50}
				if err := openapi.Write(&written, fixture(), opts, format); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(written.Bytes(), want) {
					t.Errorf("%s written directly differs from the built document", format)
				}
			}
			loaded, err := openapi3.NewLoader().LoadFromData(out)
			if err != nil {
				t.Fatal(err)
			}
			if loaded.OpenAPI != tc.openapi {
				t.Errorf("openapi = %q", loaded.OpenAPI)
			}
			if err := loaded.Validate(context.Background()); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	if doc := build(t, openapi.Options{}); doc.Paths.Value("/").Post != nil {
		t.Error("POST / described without batches")
	}
}
