package main

import (
	"bytes"
	"encoding/json"

	"github.com/pgway/pgway/internal/schemacache"
)

// dumpSchema renders c as --dump-schema's JSON: the schema cache's own JSON (schemacache.Cache.JSON, also the
// admin server's /schema_cache), indented.
func dumpSchema(c *schemacache.Cache) ([]byte, error) {
	b, err := c.JSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
