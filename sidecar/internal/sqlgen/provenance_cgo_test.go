//go:build cgo

package sqlgen_test

import (
	"regexp"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// ownFunctions are the functions pgway's SQL stage writes itself.
var ownFunctions = map[string]bool{
	"count": true, "pg_catalog.count": true, "pg_catalog.sum": true, "pg_catalog.avg": true, "pg_catalog.min": true,
	"pg_catalog.max": true, "pg_catalog.row_number": true, "pg_catalog.to_json": true,
	"json_agg": true, "jsonb_agg": true, "to_jsonb": true, "row_to_json": true,
	"set_config": true, "current_setting": true, "string_agg": true, "substring": true, "length": true, "chr": true,
	"to_tsvector": true, "to_tsquery": true, "plainto_tsquery": true, "phraseto_tsquery": true,
	"websearch_to_tsquery": true, "unnest": true, "json_to_record": true, "json_to_recordset": true,
	"jsonb_to_record": true, "jsonb_to_recordset": true, "json_array_elements": true, "jsonb_array_elements": true,
	"json_strip_nulls": true, "jsonb_build_object": true, "json_build_array": true, "json_each_text": true,
	"json_typeof": true,
}

// ownRelations are the relations pgway's statements name besides the schema cache's: the mutation's CTE and
// the table a streamed body is copied into; ownCTE the CTEs of nested writes (pgrst_p_1, pgrst_w_1, pgrst_j_1).
var (
	ownRelations = map[string]bool{"pgrst_source": true, "pg_temp.pgway_body": true}
	ownCTE       = regexp.MustCompile(`^pgrst_[pwj]_[0-9]+$`)
)

// checkProvenance parses st with libpg_query (PostgreSQL's own parser) and requires exactly one statement whose
// every relation and function comes from the schema cache or from pgway's own lists.
func checkProvenance(t *testing.T, fx *fixtureDB, st sqlgen.Statement) {
	t.Helper()
	tree, err := pg_query.Parse(st.SQL)
	if err != nil {
		t.Fatalf("libpg_query cannot parse the statement: %v\n%s", err, st.SQL)
	}
	if n := len(tree.GetStmts()); n != 1 {
		t.Fatalf("%d statements in one:\n%s", n, st.SQL)
	}
	walk(tree.ProtoReflect(), func(m proto.Message) {
		switch n := m.(type) {
		case *pg_query.RangeVar:
			name := n.Relname
			if n.Schemaname != "" {
				name = n.Schemaname + "." + n.Relname
			}
			if ownRelations[name] || ownCTE.MatchString(name) {
				return
			}
			if _, ok := fx.cache.Relation(n.Schemaname, n.Relname); !ok {
				t.Fatalf("relation %s is not in the schema cache:\n%s", name, st.SQL)
			}
		case *pg_query.FuncCall:
			var parts []string
			for _, p := range n.Funcname {
				parts = append(parts, p.GetString_().GetSval())
			}
			name := parts[len(parts)-1]
			if len(parts) == 2 {
				name = parts[0] + "." + name
				if _, ok := fx.cache.Routine(parts[0], parts[1]); ok {
					return
				}
			}
			if !ownFunctions[name] {
				t.Fatalf("function %s is neither pgway's nor in the schema cache:\n%s", name, st.SQL)
			}
		case *pg_query.TypeName:
			var parts []string
			for _, p := range n.Names {
				parts = append(parts, p.GetString_().GetSval())
			}
			if len(parts) == 2 && parts[0] != "pg_catalog" && !isCacheSchema(fx.cache, parts[0]) {
				t.Fatalf("type %v from outside the exposed schemas:\n%s", parts, st.SQL)
			}
		}
	})
}

func isCacheSchema(c *schemacache.Cache, s string) bool {
	for _, x := range c.Schemas {
		if x == s {
			return true
		}
	}
	return false
}

// walk visits every message of a parse tree.
func walk(m protoreflect.Message, visit func(proto.Message)) {
	visit(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walk(l.Get(i).Message(), visit)
			}
		case fd.Message() != nil && !fd.IsMap():
			walk(v.Message(), visit)
		}
		return true
	})
}
