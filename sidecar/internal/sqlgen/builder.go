package sqlgen

import (
	"strconv"
	"strings"

	"github.com/pgway/pgway/sidecar/internal/plan"
)

// What the SQL text of a statement may be made of, enforced by these types (and by TestSQLTextSources, which
// reads this package's source):
//
//   - fixed: pgway's own keywords, operators and punctuation. Only string constants convert to it implicitly;
//     a string variable does not compile, and the test forbids explicit conversions.
//   - ident: a name from the schema cache (relation, column, function, parameter), written quoted. Only the
//     functions of names.go make one, from schema cache values.
//   - catalogSQL: SQL text PostgreSQL itself produced while the schema cache was loaded (format_type's type
//     names, column default expressions, qualified function names). Only names.go makes one.
//   - plan.Key: a response key the client chose, written only as a quoted result-column name.
//   - numbers pgway generated (alias counters, $n placeholders).
//
// Everything else a request carries (filter values, JSON path keys, ranges, the body) is a bind parameter.

// fixed is SQL text written by pgway itself.
type fixed string

// ident is a name found in the schema cache.
type ident string

// catalogSQL is SQL text that came from PostgreSQL's catalogs.
type catalogSQL string

// params are the bind arguments of one statement, shared by every builder that writes part of it.
type params struct {
	args []any
	// interned numbers JSON path steps, so that a key used twice (in the select list and ORDER BY of a grouped
	// read) is the same parameter and PostgreSQL sees the same expression.
	interned map[string]int
	// written are the rows an insert's nested writes return, for the representation's embeds that read them.
	written map[*plan.Nested]*level
}

// builder accumulates SQL text; its arguments live in the statement's shared params.
type builder struct {
	buf []byte
	p   *params
}

// newBuilder starts a statement with its own arguments.
func newBuilder() *builder { return &builder{p: &params{}} }

// sub starts a builder for a part of the same statement (same arguments), to be added with add.
func (b *builder) sub() *builder { return &builder{p: b.p} }

// sql writes pgway's own SQL text.
func (b *builder) sql(s fixed) { b.buf = append(b.buf, s...) }

// name writes a schema cache name as a quoted identifier.
func (b *builder) name(n ident) { b.buf = appendQuoted(b.buf, string(n)) }

// qualified writes "schema"."name".
func (b *builder) qualified(schema, name ident) {
	b.name(schema)
	b.buf = append(b.buf, '.')
	b.name(name)
}

// key writes a response key as a quoted identifier (a result column's name).
func (b *builder) key(k plan.Key) { b.buf = appendQuoted(b.buf, k.String()) }

// catalog writes SQL text from the catalogs.
func (b *builder) catalog(s catalogSQL) { b.buf = append(b.buf, s...) }

// num writes a number pgway generated (an alias counter).
func (b *builder) num(n int) { b.buf = strconv.AppendInt(b.buf, int64(n), 10) }

// int64 writes an integer literal (only where no parameter can go: a DO block).
func (b *builder) int64(n int64) { b.buf = strconv.AppendInt(b.buf, n, 10) }

// arg binds v and writes its placeholder.
func (b *builder) arg(v any) {
	b.p.args = append(b.p.args, v)
	b.placeholderAt(len(b.p.args))
}

// pathKey binds one JSON path step, once per statement for equal steps, typed so that every use agrees.
func (b *builder) pathStep(s plan.PathStep) {
	var k string
	if s.IsIndex {
		k = "i" + strconv.Itoa(int(s.Index))
	} else {
		k = "k" + s.Key
	}
	n, ok := b.p.interned[k]
	if !ok {
		if b.p.interned == nil {
			b.p.interned = map[string]int{}
		}
		if s.IsIndex {
			b.p.args = append(b.p.args, int64(s.Index))
		} else {
			b.p.args = append(b.p.args, s.Key)
		}
		n = len(b.p.args)
		b.p.interned[k] = n
	}
	b.placeholderAt(n)
	if s.IsIndex {
		b.sql("::int4")
	} else {
		b.sql("::text")
	}
}

func (b *builder) placeholderAt(n int) {
	b.buf = append(b.buf, '$')
	b.buf = strconv.AppendInt(b.buf, int64(n), 10)
}

// add appends a part written by a sub builder of the same statement.
func (b *builder) add(o *builder) { b.buf = append(b.buf, o.buf...) }

// empty reports whether nothing was written.
func (b *builder) empty() bool { return len(b.buf) == 0 }

// statement is the SQL text and arguments.
func (b *builder) statement() Statement { return Statement{SQL: string(b.buf), Args: b.p.args} }

// appendQuoted appends s as a PostgreSQL quoted identifier: doubled quotes, NULs (which PostgreSQL cannot
// store) dropped.
func appendQuoted(buf []byte, s string) []byte {
	buf = append(buf, '"')
	if !strings.ContainsAny(s, "\"\x00") {
		buf = append(buf, s...)
	} else {
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case 0:
			case '"':
				buf = append(buf, '"', '"')
			default:
				buf = append(buf, s[i])
			}
		}
	}
	return append(buf, '"')
}

// QuoteIdent quotes an identifier from pgway's configuration (db-schemas, db-pre-request) for PostgreSQL.
func QuoteIdent(s string) string { return string(appendQuoted(nil, s)) }
