package openapi_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pgway/pgway/openapi"
)

// TestValues checks the component schemas against JSON values as PostgreSQL's to_json renders them.
func TestValues(t *testing.T) {
	row := `{"id": 9007199254740993, "title": "Dune", "author_id": 1, "pages": 412, "price": 9.99, "weight": 0.5,
		"rating": 4.25, "published": true, "summary": null, "isbn": "9780441013593", "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
		"released": "1965-08-01", "created_at": "2024-01-02T03:04:05.123456+00:00", "updated_at": "2024-01-02T03:04:05",
		"opens": "09:00:00", "loan": "14 days", "meta": {"a": [1, "x", null]}, "raw": 5, "cover": "\\x0102",
		"tags": ["sf", "classic"], "mood": null, "search": "'dune':1", "shelf": {"row": 1}, "isbn13": null,
		"author": {"id": 1, "name": "Herbert", "ids": [1, 2]}, "select": "x"}`
	cases := []struct {
		schema, value string
		ok            bool
	}{
		{"books", row, true},
		{"books", `{"id": 1}`, true}, // select may return any subset
		{"books", `{"title": null}`, false},
		{"books", `{"pages": 40000}`, false},
		{"books", `{"mood": "angry"}`, false},
		{"books", `{"mood": "sad"}`, true},
		{"books", `{"tags": [1]}`, false},
		{"books", `{"tags": ["sf", null]}`, true}, // array elements may be NULL
		{"books_insert", `{"title": "Dune", "author_id": 1, "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "raw": {}, "tags": [null]}`, true},
		{"books", `{"author": null}`, true},
		{"books", `{"meta": null, "raw": "any"}`, true},
		{"books_insert", `{"title": "Dune", "author_id": 1, "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "raw": {}}`, true},
		{"books_insert", `{"author_id": 1, "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "raw": {}}`, false},
		{"books_insert", `{"title": "", "author_id": 1, "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "raw": 1, "title2": 1}`, true},
		// Formats narrower than PostgreSQL's input stay on read schemas only.
		{"books", `{"released": "infinity"}`, false},
		{"books_update", `{"released": "infinity", "created_at": "2024-01-02 03:04:05"}`, true},
		{"books_update", `{"released": "Jan 2, 2024", "created_at": "-infinity"}`, true},
		{"books_update", `{}`, true},
		{"books_update", `{"title": null}`, false},
		{"search_books_args", `{"query": "dune"}`, true},
		{"search_books_args", `{"max": 3}`, false},
		{"add_args", `{"a": 1.5, "b": 2}`, true},
		{"Error", `{"code": "PGRST116", "message": "m", "details": null, "hint": null}`, true},
		{"Error", `{"code": "PGRST116", "message": "m"}`, false},
	}
	t.Run("3.0 kin-openapi", func(t *testing.T) {
		doc := build(t, openapi.Options{Version: "3.0"})
		for _, tc := range cases {
			err := doc.ValidateSchemaJSON(doc.Components.Schemas[tc.schema].Value, decode(t, tc.value),
				openapi3.EnableFormatValidation())
			if (err == nil) != tc.ok {
				t.Errorf("%s %s: err = %v, want ok=%v", tc.schema, tc.value, err, tc.ok)
			}
		}
	})
	t.Run("3.1 JSON Schema 2020-12", func(t *testing.T) {
		// A plain 2020-12 validator over the marshalled document: the 3.1 output must stand on its own.
		out, err := openapi.Marshal(build(t, openapi.Options{Version: "3.1"}), "json")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if err := c.AddResource("doc.json", doc); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			sch, err := c.Compile("doc.json#/components/schemas/" + tc.schema)
			if err != nil {
				t.Fatalf("compiling %s: %v", tc.schema, err)
			}
			err = sch.Validate(decode(t, tc.value))
			if (err == nil) != tc.ok {
				t.Errorf("%s %s: err = %v, want ok=%v", tc.schema, tc.value, err, tc.ok)
			}
		}
	})
}

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}
