package sqlgen

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// ResponseGUCColumns are the main statement's response.headers and response.status columns.
const ResponseGUCColumns = "nullif(current_setting('response.headers', true), '') AS response_headers, " +
	"nullif(current_setting('response.status', true), '') AS response_status"

// RollbackCode is the SQLSTATE the check statement raises to roll back a request that otherwise succeeded.
const RollbackCode = "PGWRB"

// StreamTable is where a streamed body is (dbexec.WriteStreamed copies it there).
const StreamTable = "pg_temp.pgway_body"

// ForMutate builds the statement answering m: its one row carries page_total (the affected rows), location
// (an inserted row's primary key as [column, value] pairs, for return=headers-only), body (the
// representation), inserted (upserts: rows inserted rather than updated) and the response GUCs.
func ForMutate(m *plan.Mutate) Statements {
	b := newBuilder()
	target := alias{rel: m.Rel}
	mutation := b.sub()
	var levels []*level
	switch {
	case len(m.Nested) > 0:
		// Before the representation: its embeds read what the nested writes return.
		levels = nestedLevels(m)
		mutation.nestedWith(m, levels)
	case m.Action == request.ActionInsert, m.Action == request.ActionUpsert:
		mutation.insert(m, target)
	case m.Action == request.ActionUpdate:
		mutation.update(m, target)
	case m.Action == request.ActionDelete:
		mutation.sql("DELETE FROM ")
		mutation.qualified(relName(m.Rel))
		mutation.sql(" AS ")
		mutation.alias(target)
		mutation.mutationWhere(m, target)
		mutation.returning(m, target)
	}

	var inner *builder
	if m.Read != nil {
		from := b.sub()
		from.sql("pgrst_source AS ")
		from.readAlias(m.Read)
		inner = b.innerSelect(m.Read, from, b.sub())
	} else {
		inner = b.sub()
		inner.sql("SELECT * FROM pgrst_source")
	}
	if levels != nil {
		b.sql("WITH ")
		b.add(mutation)
	} else {
		b.sql("WITH pgrst_source AS (")
		b.add(mutation)
		b.sql(")")
	}
	b.sql(" SELECT pg_catalog.count(_pgway_t) AS page_total, ")
	if m.Action == request.ActionInsert && m.Return == "headers-only" && len(m.PrimaryKey) > 0 {
		b.sql("CASE WHEN pg_catalog.count(_pgway_t) = 1 THEN (SELECT json_agg(json_build_array(_pgway_j.key, _pgway_j.value)) " +
			"FROM (SELECT row_to_json(_) AS row FROM pgrst_source AS _ LIMIT 1) _pgway_d " +
			"CROSS JOIN json_each_text(_pgway_d.row) AS _pgway_j WHERE _pgway_j.key = ANY(")
		keys := make([]string, len(m.PrimaryKey))
		for i, c := range m.PrimaryKey {
			keys[i] = c.Name
		}
		b.arg(arrayLiteral(keys, nil))
		b.sql("::text[])) END")
	} else {
		b.sql("NULL::json")
	}
	b.sql(" AS location, ")
	first := false
	if m.Read != nil {
		first = b.body(m.Read)
	} else {
		b.sql("''")
	}
	b.sql(" AS body, ")
	if m.Resolution == "merge-duplicates" {
		b.sql("nullif(current_setting('pgrst.inserted', true), '')::int")
	} else {
		b.sql("NULL::int")
	}
	b.sql(" AS inserted, ")
	// The response GUCs a trigger or default may have set, read in the same statement as PostgREST does.
	b.sql(ResponseGUCColumns)
	check := checkBlock(m)
	if check != "" {
		b.sql(", set_config('pgway.affected', pg_catalog.count(_pgway_t)::text, true) AS affected")
	}
	b.fromRows(inner, first)
	out := Statements{Main: b.statement(), Check: check, GUCColumns: true, ReadGUCsAfter: m.Rel.HasTriggers}
	for _, l := range levels {
		out.ReadGUCsAfter = out.ReadGUCsAfter || l.rel.HasTriggers
	}
	if m.StreamBody {
		out.StreamBody = m.Payload.JSON
	}
	return out
}

// payloadSource writes PostgREST's body unpacking: FROM the bound JSON, one typed row per object, as pgrst_body.
func (b *builder) payloadSource(m *plan.Mutate, limitOne bool) {
	p := m.Payload
	defaults := m.ApplyDefaults
	jsonType := fixed("json")
	if defaults {
		jsonType = "jsonb"
	}
	if m.StreamBody {
		b.sql(" FROM (SELECT body::")
		b.sql(jsonType)
		b.sql(" AS json_data FROM " + StreamTable + ") pgrst_payload, ")
	} else {
		b.sql(" FROM (SELECT ")
		b.arg(p.JSON)
		b.sql("::")
		b.sql(jsonType)
		b.sql(" AS json_data) pgrst_payload, ")
	}
	src := fixed("pgrst_payload.json_data")
	if defaults {
		b.sql("LATERAL (SELECT ")
		if p.Object {
			b.defaultsObject(m.Columns)
			b.sql(" || pgrst_payload.json_data AS val) pgrst_json_defs, ")
		} else {
			b.sql("jsonb_agg(")
			b.defaultsObject(m.Columns)
			b.sql(" || elem) AS val FROM jsonb_array_elements(pgrst_payload.json_data) elem) pgrst_json_defs, ")
		}
		src = "pgrst_json_defs.val"
	}
	b.sql("LATERAL (SELECT ")
	if len(m.Columns) == 0 {
		if p.Object {
			b.sql("FROM (VALUES (1)) _")
		} else {
			b.sql("FROM ")
			b.sql(jsonType)
			b.sql("_array_elements(")
			b.sql(src)
			b.sql(") _")
		}
	} else {
		b.recordColumns(m.Columns)
		b.sql(" FROM ")
		b.sql(jsonType)
		b.sql("_to_record")
		if !p.Object {
			b.sql("set")
		}
		b.sql("(")
		b.sql(src)
		b.sql(") AS _")
		b.recordDefinition(m.Columns)
		if limitOne {
			b.sql(" LIMIT 1")
		}
	}
	b.sql(") pgrst_body")
}

// defaultsObject writes a jsonb object of the columns' default values (Prefer: missing=default): merged under
// a body object, it gives the columns the object leaves out their defaults.
func (b *builder) defaultsObject(cols []*schemacache.Column) {
	b.sql("jsonb_build_object(")
	n := 0
	for _, c := range cols {
		if c.Default == "" {
			continue
		}
		if n > 0 {
			b.sql(", ")
		}
		n++
		b.arg(c.Name)
		b.sql("::text, ")
		b.catalog(colDefault(c))
	}
	b.sql(")")
}

// recordColumns writes the select list reading the columns of a body record: a column with a domain
// representation goes through its json → domain cast function.
func (b *builder) recordColumns(cols []*schemacache.Column) {
	for i, c := range cols {
		if i > 0 {
			b.sql(", ")
		}
		if c.Rep.FromJSON != "" {
			b.catalog(repFromJSON(c))
			b.sql("(")
			b.name(colName(c))
			b.sql(") AS ")
		}
		b.name(colName(c))
	}
}

// recordDefinition writes the column definition list of a body record: ("a" integer, "b" text); json for a
// column read through its domain representation.
func (b *builder) recordDefinition(cols []*schemacache.Column) {
	b.sql("(")
	for i, c := range cols {
		if i > 0 {
			b.sql(", ")
		}
		b.name(colName(c))
		b.sql(" ")
		if c.Rep.FromJSON != "" {
			b.sql("json")
		} else {
			b.catalog(colType(c))
		}
	}
	b.sql(")")
}

// insertedAdd and insertedSub are PostgREST's pgrst.inserted bookkeeping: +1 per row offered for insert, -1 per
// conflicting row updated instead, so the total tells 201 from 200.
const (
	insertedAdd = "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) + 1)::text, true) <> '0'"
	insertedSub = "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) - 1)::text, true) <> '-1'"
)

func (b *builder) insert(m *plan.Mutate, a alias) {
	b.sql("INSERT INTO ")
	b.qualified(relName(m.Rel))
	b.sql(" AS ")
	b.alias(a)
	if len(m.Columns) > 0 {
		b.sql(" (")
		for i, c := range m.Columns {
			if i > 0 {
				b.sql(", ")
			}
			b.name(colName(c))
		}
		b.sql(")")
	}
	b.sql(" SELECT ")
	for i, c := range m.Columns {
		if i > 0 {
			b.sql(", ")
		}
		b.sql("pgrst_body.")
		b.name(colName(c))
	}
	b.payloadSource(m, false)
	merge := m.Resolution == "merge-duplicates"
	if merge {
		b.sql(" WHERE " + insertedAdd)
		for i := range m.Where { // PUT: the payload row must match the URL's primary key
			b.sql(" AND ")
			b.cond(alias{name: "pgrst_body"}, &m.Where[i])
		}
	}
	if len(m.OnConflict) > 0 && m.Resolution != "" {
		b.sql(" ON CONFLICT (")
		for i, c := range m.OnConflict {
			if i > 0 {
				b.sql(", ")
			}
			b.name(colName(c))
		}
		b.sql(") ")
		if !merge || len(m.Columns) == 0 {
			b.sql("DO NOTHING")
		} else {
			b.sql("DO UPDATE SET ")
			for i, c := range m.Columns {
				if i > 0 {
					b.sql(", ")
				}
				b.name(colName(c))
				b.sql(" = EXCLUDED.")
				b.name(colName(c))
			}
			b.sql(" WHERE " + insertedSub)
		}
	}
	b.returning(m, a)
}

func (b *builder) update(m *plan.Mutate, a alias) {
	if len(m.Columns) == 0 {
		// Nothing to set: an empty result that still has the relation's columns for select=.
		b.sql("SELECT ")
		b.alias(a)
		b.sql(".* FROM ")
		b.qualified(relName(m.Rel))
		b.sql(" AS ")
		b.alias(a)
		b.sql(" WHERE false")
		return
	}
	b.sql("UPDATE ")
	b.qualified(relName(m.Rel))
	b.sql(" AS ")
	b.alias(a)
	b.sql(" SET ")
	for i, c := range m.Columns {
		if i > 0 {
			b.sql(", ")
		}
		b.name(colName(c))
		b.sql(" = pgrst_body.")
		b.name(colName(c))
	}
	b.payloadSource(m, true)
	b.mutationWhere(m, a)
	b.returning(m, a)
}

// mutationWhere filters an update or delete; with limit/offset the window is chosen by a subquery on the row
// identity (tableoid, ctid) for tables and the primary key for views.
func (b *builder) mutationWhere(m *plan.Mutate, a alias) {
	if m.Limit < 0 && m.Offset == 0 {
		b.where(a, m.Where)
		return
	}
	sub := alias{name: "_pgway_l"}
	table := m.Rel.Kind == schemacache.KindTable || m.Rel.Kind == schemacache.KindPartitionedTable
	key := func(a alias) {
		if table {
			b.alias(a)
			b.sql(".tableoid, ")
			b.alias(a)
			b.sql(".ctid")
			return
		}
		for i, c := range m.PrimaryKey {
			if i > 0 {
				b.sql(", ")
			}
			b.alias(a)
			b.sql(".")
			b.name(colName(c))
		}
	}
	b.sql(" WHERE (")
	key(a)
	b.sql(") IN (SELECT ")
	key(sub)
	b.sql(" FROM ")
	b.qualified(relName(m.Rel))
	b.sql(" AS _pgway_l")
	b.where(sub, m.Where)
	for i, o := range m.Order {
		if i == 0 {
			b.sql(" ORDER BY ")
		} else {
			b.sql(", ")
		}
		b.expr(sub, o.Expr)
		if o.Desc {
			b.sql(" DESC")
		} else {
			b.sql(" ASC")
		}
		b.nulls(o.Nulls)
	}
	b.window(m.Limit, m.Offset)
	b.sql(")")
}

func (b *builder) returning(m *plan.Mutate, a alias) {
	switch {
	case m.Read != nil:
		b.sql(" RETURNING ")
		cols, all := returnedColumns(m)
		if all {
			b.alias(a)
			b.sql(".*")
			return
		}
		if len(cols) == 0 {
			b.sql("1")
			return
		}
		for i, c := range cols {
			if i > 0 {
				b.sql(", ")
			}
			b.alias(a)
			b.sql(".")
			b.name(colName(c))
		}
	case m.Action == request.ActionInsert && m.Return == "headers-only" && len(m.PrimaryKey) > 0:
		b.sql(" RETURNING ")
		for i, c := range m.PrimaryKey {
			if i > 0 {
				b.sql(", ")
			}
			b.alias(a)
			b.sql(".")
			b.name(colName(c))
		}
	default:
		b.sql(" RETURNING 1")
	}
}

// returnedColumns are the columns the representation needs from the written rows, as PostgREST's
// inferColsEmbedNeeds: the selected and ordered columns, the parent-side columns of embeds and the primary key.
// Returning only those lets a role with column privileges write and read back what it may see; all is true
// when the whole row is needed (every column selected, a computed field or a computed relationship).
func returnedColumns(m *plan.Mutate) (cols []*schemacache.Column, all bool) {
	seen := make(map[*schemacache.Column]bool, len(m.Rel.Columns))
	add := func(c *schemacache.Column) {
		if !seen[c] {
			seen[c] = true
			cols = append(cols, c)
		}
	}
	for _, o := range m.Read.Select {
		if c := o.Expr.Column; c != nil {
			if c.Function != nil {
				return nil, true
			}
			add(c)
		}
	}
	for _, o := range m.Read.Order {
		if c := o.Expr.Column; c != nil && o.Embed == nil {
			if c.Function != nil {
				return nil, true
			}
			add(c)
		}
	}
	for _, e := range m.Read.Embeds {
		if e.Rel.Computed != nil {
			return nil, true
		}
		for _, name := range e.Rel.SourceColumns {
			if c, ok := m.Rel.Column(name); ok {
				add(c)
			}
		}
	}
	for _, c := range m.PrimaryKey {
		add(c)
	}
	if len(cols) == len(m.Rel.Columns) {
		return nil, true
	}
	return cols, false
}

// checkBlock is the DO block enforcing the rules PostgREST checks after the statement (it rolls back and
// answers an error), reading the affected-row count Main stored in pgway.affected.
func checkBlock(m *plan.Mutate) string {
	return buildCheck(m.Action == request.ActionUpsert, m.Singular, m.MaxAffected, m.Rollback)
}

// buildCheck writes the DO block for the given rules. A DO block takes no parameters: its only variable part
// is maxAffected, an integer.
func buildCheck(put, singular bool, maxAffected int64, rollback bool) string {
	body := newBuilder()
	const raise = " THEN RAISE SQLSTATE 'PGRST' USING MESSAGE = json_build_object("
	if put {
		body.sql("IF n <> 1" + raise + "'code', 'PGRST115', 'message', 'Payload values do not match URL in primary key column(s)', " +
			`'details', NULL)::text, DETAIL = '{"status":400}'; END IF; `)
	} else if singular {
		body.sql("IF n <> 1" + raise + "'code', 'PGRST116', 'message', 'Cannot coerce the result to a single JSON object', " +
			`'details', 'The result contains ' || n || ' rows')::text, DETAIL = '{"status":406}'; END IF; `)
	}
	if maxAffected >= 0 {
		body.sql("IF n > ")
		body.int64(maxAffected)
		body.sql(raise + "'code', 'PGRST124', 'message', 'Query result exceeds max-affected preference constraint', " +
			`'details', 'The query affects ' || n || ' rows')::text, DETAIL = '{"status":400}'; END IF; `)
	}
	if rollback {
		body.sql("SET CONSTRAINTS ALL IMMEDIATE; RAISE SQLSTATE '" + RollbackCode + "'; ")
	}
	if body.empty() {
		return ""
	}
	b := newBuilder()
	b.sql("DO $pgway$ DECLARE n bigint := current_setting('pgway.affected')::bigint; BEGIN ")
	b.add(body)
	b.sql("END $pgway$")
	return b.statement().SQL
}
