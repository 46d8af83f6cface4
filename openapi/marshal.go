package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// Marshal encodes doc as indented JSON ("json" or "") or as YAML ("yaml"), keys in a stable order.
func Marshal(doc *openapi3.T, format string) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding openapi document: %w", err)
	}
	switch format {
	case "", "json":
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return nil, fmt.Errorf("indenting openapi document: %w", err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	case "yaml", "yml":
		// JSON is YAML: parse it into nodes (keeping key order), drop the JSON quoting style and re-emit.
		var node yaml.Node
		if err := yaml.Unmarshal(raw, &node); err != nil {
			return nil, fmt.Errorf("converting openapi document to yaml: %w", err)
		}
		plain(&node)
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&node); err != nil {
			return nil, fmt.Errorf("encoding openapi document as yaml: %w", err)
		}
		return buf.Bytes(), nil
	default:
		return nil, fmt.Errorf("encoding openapi document: unknown format %q (want json or yaml)", format)
	}
}

// plain resets the flow and quoting styles that parsing JSON gives every node, so the encoder picks
// block style and quotes only scalars that need it.
func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}
