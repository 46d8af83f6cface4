package sqlgen

import (
	"strconv"
	"strings"

	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/plan"
	"github.com/pgway/pgway/sidecar/internal/request"
)

// Mutate is the SQL of a write. Main returns one row: page_total bigint (affected rows), location json (the
// primary key of an inserted row, for return=headers-only), body text (the representation), inserted int
// (upserts: rows inserted rather than updated). Check, when set, runs after Main in the same transaction: it
// raises PostgREST's error when the result breaks a rule (singular object, max-affected, PUT) and ends the
// transaction with a rollback when asked to (raising RollbackCode after Main's result was read).
type Mutate struct {
	Main  Statement
	Check string
	// ReadGUCsAfter: the relation has triggers, and an AFTER trigger sets the response GUCs only once the
	// statement ends: read them again in a separate query (the main statement's columns see the rest).
	ReadGUCsAfter bool
}

// ResponseGUCColumns are the main statement's response.headers and response.status columns.
const ResponseGUCColumns = "nullif(current_setting('response.headers', true), '') AS response_headers, " +
	"nullif(current_setting('response.status', true), '') AS response_status"

// RollbackCode is the SQLSTATE the check statement raises to roll back a request that otherwise succeeded.
const RollbackCode = "PGWRB"

// StreamTable is where a streamed body is (dbexec.WriteStreamed copies it there).
const StreamTable = "pg_temp.pgway_body"

// sourceCTE names the mutation's RETURNING rows.
const sourceCTE = "pgrst_source"

// ForMutate builds the statement answering m.
func ForMutate(m *plan.Mutate) Mutate {
	var b builder
	alias := m.Rel.Name
	switch m.Action {
	case request.ActionInsert, request.ActionUpsert:
		b.insert(m, alias)
	case request.ActionUpdate:
		b.update(m, alias)
	case request.ActionDelete:
		b.str("DELETE FROM ")
		b.str(qualified(m.Rel))
		b.str(" AS ")
		b.ident(alias)
		b.mutationWhere(m, alias)
		b.returning(m, alias)
	}
	mutation := b.sb.String()

	var inner string
	if m.Read != nil {
		inner = b.innerSelect(m.Read, sourceCTE+" AS "+QuoteIdent(m.Read.Alias), "")
	} else {
		inner = "SELECT * FROM " + sourceCTE
	}
	var sb strings.Builder
	sb.WriteString("WITH ")
	sb.WriteString(sourceCTE)
	sb.WriteString(" AS (")
	sb.WriteString(mutation)
	sb.WriteString(") SELECT pg_catalog.count(_pgway_t) AS page_total, ")
	if m.Action == request.ActionInsert && m.Return == "headers-only" && len(m.PrimaryKey) > 0 {
		sb.WriteString("CASE WHEN pg_catalog.count(_pgway_t) = 1 THEN (SELECT json_agg(json_build_array(_pgway_j.key, _pgway_j.value)) FROM (SELECT row_to_json(_) AS row FROM ")
		sb.WriteString(sourceCTE)
		sb.WriteString(" AS _ LIMIT 1) _pgway_d CROSS JOIN json_each_text(_pgway_d.row) AS _pgway_j WHERE _pgway_j.key IN (")
		for i, k := range m.PrimaryKey {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(QuoteLiteral(k))
		}
		sb.WriteString(")) END")
	} else {
		sb.WriteString("NULL::json")
	}
	sb.WriteString(" AS location, ")
	if m.Read != nil {
		sb.WriteString(b.body(m.Read))
	} else {
		sb.WriteString("''")
	}
	sb.WriteString(" AS body, ")
	if m.Resolution == "merge-duplicates" {
		sb.WriteString("nullif(current_setting('pgrst.inserted', true), '')::int")
	} else {
		sb.WriteString("NULL::int")
	}
	sb.WriteString(" AS inserted, ")
	// The response GUCs a trigger or default may have set, read in the same statement as PostgREST does.
	sb.WriteString(ResponseGUCColumns)
	check := checkBlock(m)
	if check != "" {
		sb.WriteString(", set_config('pgway.affected', pg_catalog.count(_pgway_t)::text, true) AS affected")
	}
	sb.WriteString(" FROM (")
	sb.WriteString(inner)
	sb.WriteString(") _pgway_t")
	return Mutate{Main: Statement{SQL: sb.String(), Args: b.args}, Check: check, ReadGUCsAfter: m.Rel.HasTriggers}
}

// payloadSource writes PostgREST's body unpacking: FROM the bound JSON, one typed row per object, as pgrst_body.
func (b *builder) payloadSource(m *plan.Mutate, limitOne bool) {
	p := m.Payload
	defaults := m.ApplyDefaults
	jsonType := "json"
	if defaults {
		jsonType = "jsonb"
	}
	if m.StreamBody {
		b.str(" FROM (SELECT body::" + jsonType + " AS json_data FROM " + StreamTable + ") pgrst_payload, ")
	} else {
		b.str(" FROM (SELECT ")
		b.arg(p.JSON)
		b.str("::" + jsonType + " AS json_data) pgrst_payload, ")
	}
	src := "pgrst_payload.json_data"
	if defaults {
		var defs strings.Builder
		defs.WriteString("jsonb_build_object(")
		n := 0
		for _, c := range m.Columns {
			if c.Default == "" {
				continue
			}
			if n > 0 {
				defs.WriteString(", ")
			}
			n++
			defs.WriteString(QuoteLiteral(c.Name))
			defs.WriteString(", ")
			defs.WriteString(c.Default)
		}
		defs.WriteString(")")
		if p.Object {
			b.str("LATERAL (SELECT " + defs.String() + " || pgrst_payload.json_data AS val) pgrst_json_defs, ")
		} else {
			b.str("LATERAL (SELECT jsonb_agg(" + defs.String() + " || elem) AS val FROM jsonb_array_elements(pgrst_payload.json_data) elem) pgrst_json_defs, ")
		}
		src = "pgrst_json_defs.val"
	}
	b.str("LATERAL (SELECT ")
	if len(m.Columns) == 0 {
		if p.Object {
			b.str("FROM (VALUES (1)) _")
		} else {
			b.str("FROM " + jsonType + "_array_elements(" + src + ") _")
		}
	} else {
		for i, c := range m.Columns {
			if i > 0 {
				b.str(", ")
			}
			if fn := c.Rep.FromJSON; fn != "" {
				// Domain representation: the JSON value goes through the json → domain cast function.
				b.str(fn + "(")
				b.ident(c.Name)
				b.str(") AS ")
			}
			b.ident(c.Name)
		}
		b.str(" FROM " + jsonType + "_to_record")
		if !p.Object {
			b.str("set")
		}
		b.str("(" + src + ") AS _(")
		for i, c := range m.Columns {
			if i > 0 {
				b.str(", ")
			}
			b.ident(c.Name)
			b.str(" ")
			if c.Rep.FromJSON != "" {
				b.str("json")
			} else {
				b.str(c.Type)
			}
		}
		b.str(")")
		if limitOne {
			b.str(" LIMIT 1")
		}
	}
	b.str(") pgrst_body")
}

// insertedCounter is PostgREST's pgrst.inserted bookkeeping: +1 per row offered for insert, -1 per conflicting
// row updated instead, so the total tells 201 from 200.
func insertedCounter(add bool) string {
	sym, num := "+", "0"
	if !add {
		sym, num = "-", "-1"
	}
	return "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) " +
		sym + " 1)::text, true) <> '" + num + "'"
}

func (b *builder) insert(m *plan.Mutate, alias string) {
	b.str("INSERT INTO ")
	b.str(qualified(m.Rel))
	b.str(" AS ")
	b.ident(alias)
	if len(m.Columns) > 0 {
		b.str(" (")
		for i, c := range m.Columns {
			if i > 0 {
				b.str(", ")
			}
			b.ident(c.Name)
		}
		b.str(")")
	}
	b.str(" SELECT ")
	for i, c := range m.Columns {
		if i > 0 {
			b.str(", ")
		}
		b.str("pgrst_body.")
		b.ident(c.Name)
	}
	b.payloadSource(m, false)
	merge := m.Resolution == "merge-duplicates"
	if merge {
		b.str(" WHERE ")
		b.str(insertedCounter(true))
		for i := range m.Where { // PUT: the payload row must match the URL's primary key
			b.str(" AND ")
			b.cond("pgrst_body", &m.Where[i])
		}
	}
	if len(m.OnConflict) > 0 && m.Resolution != "" {
		b.str(" ON CONFLICT (")
		for i, c := range m.OnConflict {
			if i > 0 {
				b.str(", ")
			}
			b.ident(c)
		}
		b.str(") ")
		if !merge || len(m.Columns) == 0 {
			b.str("DO NOTHING")
		} else {
			b.str("DO UPDATE SET ")
			for i, c := range m.Columns {
				if i > 0 {
					b.str(", ")
				}
				b.ident(c.Name)
				b.str(" = EXCLUDED.")
				b.ident(c.Name)
			}
			b.str(" WHERE ")
			b.str(insertedCounter(false))
		}
	}
	b.returning(m, alias)
}

func (b *builder) update(m *plan.Mutate, alias string) {
	if len(m.Columns) == 0 {
		// Nothing to set: an empty result that still has the relation's columns for select=.
		b.str("SELECT ")
		b.ident(alias)
		b.str(".* FROM ")
		b.str(qualified(m.Rel))
		b.str(" AS ")
		b.ident(alias)
		b.str(" WHERE false")
		return
	}
	b.str("UPDATE ")
	b.str(qualified(m.Rel))
	b.str(" AS ")
	b.ident(alias)
	b.str(" SET ")
	for i, c := range m.Columns {
		if i > 0 {
			b.str(", ")
		}
		b.ident(c.Name)
		b.str(" = pgrst_body.")
		b.ident(c.Name)
	}
	b.payloadSource(m, true)
	b.mutationWhere(m, alias)
	b.returning(m, alias)
}

// mutationWhere filters an update or delete; with limit/offset the window is chosen by a subquery on the row
// identity (tableoid, ctid) for tables and the primary key for views.
func (b *builder) mutationWhere(m *plan.Mutate, alias string) {
	if m.Limit < 0 && m.Offset == 0 {
		b.where(alias, m.Where)
		return
	}
	const sub = "_pgway_l"
	var key []string
	if m.Rel.Kind == schemacache.KindTable || m.Rel.Kind == schemacache.KindPartitionedTable {
		key = []string{"tableoid", "ctid"}
	} else {
		for _, k := range m.PrimaryKey {
			key = append(key, QuoteIdent(k))
		}
	}
	cols := func(a string) string {
		parts := make([]string, len(key))
		for i, k := range key {
			parts[i] = QuoteIdent(a) + "." + k
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	b.str(" WHERE ")
	b.str(cols(alias))
	b.str(" IN (SELECT ")
	b.str(strings.Trim(cols(sub), "()"))
	b.str(" FROM ")
	b.str(qualified(m.Rel))
	b.str(" AS ")
	b.ident(sub)
	b.where(sub, m.Where)
	for i, o := range m.Order {
		if i == 0 {
			b.str(" ORDER BY ")
		} else {
			b.str(", ")
		}
		b.expr(sub, o.Expr)
		if o.Desc {
			b.str(" DESC")
		} else {
			b.str(" ASC")
		}
		switch o.Nulls {
		case "first":
			b.str(" NULLS FIRST")
		case "last":
			b.str(" NULLS LAST")
		}
	}
	if m.Limit >= 0 {
		b.str(" LIMIT ")
		b.arg(m.Limit)
	}
	if m.Offset > 0 {
		b.str(" OFFSET ")
		b.arg(m.Offset)
	}
	b.str(")")
}

func (b *builder) returning(m *plan.Mutate, alias string) {
	switch {
	case m.Read != nil:
		b.str(" RETURNING ")
		cols, all := returnedColumns(m)
		if all {
			b.ident(alias)
			b.str(".*")
			return
		}
		if len(cols) == 0 {
			b.str("1")
			return
		}
		for i, c := range cols {
			if i > 0 {
				b.str(", ")
			}
			b.ident(alias)
			b.str(".")
			b.ident(c)
		}
	case m.Action == request.ActionInsert && m.Return == "headers-only" && len(m.PrimaryKey) > 0:
		b.str(" RETURNING ")
		for i, k := range m.PrimaryKey {
			if i > 0 {
				b.str(", ")
			}
			b.ident(alias)
			b.str(".")
			b.ident(k)
		}
	default:
		b.str(" RETURNING 1")
	}
}

// returnedColumns are the columns the representation needs from the written rows, as PostgREST's
// inferColsEmbedNeeds: the selected and ordered columns, the parent-side columns of embeds and the primary key.
// Returning only those lets a role with column privileges write and read back what it may see; all is true
// when the whole row is needed (every column selected, a computed field or a computed relationship).
func returnedColumns(m *plan.Mutate) (cols []string, all bool) {
	seen := make(map[string]bool, len(m.Rel.Columns))
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			cols = append(cols, name)
		}
	}
	for _, o := range m.Read.Select {
		if c := o.Expr.Column; c != nil {
			if c.Function != nil {
				return nil, true
			}
			add(c.Name)
		}
	}
	for _, o := range m.Read.Order {
		if c := o.Expr.Column; c != nil && o.Embed == nil {
			if c.Function != nil {
				return nil, true
			}
			add(c.Name)
		}
	}
	for _, e := range m.Read.Embeds {
		if e.Rel.Computed != nil {
			return nil, true
		}
		for _, c := range e.Rel.SourceColumns {
			add(c)
		}
	}
	for _, k := range m.PrimaryKey {
		add(k)
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

// buildCheck writes the DO block for the given rules.
func buildCheck(put, singular bool, maxAffected int64, rollback bool) string {
	var body strings.Builder
	raise := func(cond, code, msg, details string, status int) {
		body.WriteString("IF ")
		body.WriteString(cond)
		body.WriteString(" THEN RAISE SQLSTATE 'PGRST' USING MESSAGE = json_build_object('code', ")
		body.WriteString(QuoteLiteral(code))
		body.WriteString(", 'message', ")
		body.WriteString(QuoteLiteral(msg))
		body.WriteString(", 'details', ")
		body.WriteString(details)
		body.WriteString(")::text, DETAIL = '{\"status\":")
		body.WriteString(strconv.Itoa(status))
		body.WriteString("}'; END IF; ")
	}
	if put {
		raise("n <> 1", "PGRST115", "Payload values do not match URL in primary key column(s)", "NULL", 400)
	} else if singular {
		raise("n <> 1", "PGRST116", "Cannot coerce the result to a single JSON object", "'The result contains ' || n || ' rows'", 406)
	}
	if maxAffected >= 0 {
		raise("n > "+strconv.FormatInt(maxAffected, 10), "PGRST124", "Query result exceeds max-affected preference constraint",
			"'The query affects ' || n || ' rows'", 400)
	}
	if rollback {
		body.WriteString("SET CONSTRAINTS ALL IMMEDIATE; RAISE SQLSTATE '" + RollbackCode + "'; ")
	}
	if body.Len() == 0 {
		return ""
	}
	return "DO $pgway$ DECLARE n bigint := current_setting('pgway.affected')::bigint; BEGIN " + body.String() + "END $pgway$"
}
