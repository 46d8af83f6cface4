package schemacache

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Privilege kinds a role may hold on a relation (SELECT, INSERT, UPDATE, DELETE) or routine (EXECUTE).
const (
	PrivSelect  = "SELECT"
	PrivInsert  = "INSERT"
	PrivUpdate  = "UPDATE"
	PrivDelete  = "DELETE"
	PrivExecute = "EXECUTE"
)

// Privileges is the set of (object, privilege) pairs one role holds in the exposed schemas.
type Privileges map[PrivKey]bool

// PrivKey names one privilege on one relation or routine.
type PrivKey struct {
	Object QName
	Priv   string
}

// Allows reports whether the role holds priv on obj.
func (p Privileges) Allows(obj QName, priv string) bool { return p[PrivKey{obj, priv}] }

// RelationVisible reports whether the role may use the relation q at all (SELECT, INSERT, UPDATE or DELETE).
func (p Privileges) RelationVisible(q QName) bool {
	return p.Allows(q, PrivSelect) || p.Allows(q, PrivInsert) || p.Allows(q, PrivUpdate) || p.Allows(q, PrivDelete)
}

// RoutineVisible reports whether the role may execute a function named q.
func (p Privileges) RoutineVisible(q QName) bool { return p.Allows(q, PrivExecute) }

// Visibility tells which relations and functions a caller may use. Hints ("Perhaps you meant …") name only
// what it shows, so an error never reveals an object the caller has no privilege on. Privileges is one.
type Visibility interface {
	// RelationVisible reports whether the caller may use the relation q.
	RelationVisible(q QName) bool
	// RoutineVisible reports whether the caller may execute a function named q.
	RoutineVisible(q QName) bool
}

// WithVisibility returns a view of c for one caller: it shares c's data and lookups, and its hints and its
// RelationVisible and RoutineVisible answer by v (nil shows everything). c itself is unchanged.
func (c *Cache) WithVisibility(v Visibility) *Cache {
	view := *c
	view.visibility = v
	return &view
}

// RelationVisible reports whether the cache's caller may use the relation q (true without a Visibility).
func (c *Cache) RelationVisible(q QName) bool {
	return c.visibility == nil || c.visibility.RelationVisible(q)
}

// RoutineVisible reports whether the cache's caller may execute a function named q (true without a
// Visibility).
func (c *Cache) RoutineVisible(q QName) bool {
	return c.visibility == nil || c.visibility.RoutineVisible(q)
}

// privilegesSQL lists the table and function privileges a role holds (directly, through membership or PUBLIC)
// in the exposed schemas; a routine name is allowed when any overload is executable. Column privileges are
// looked at only for tables that have some (colacl): elsewhere has_any_column_privilege is has_table_privilege
// again, and checking every column of every table costs as much as the rest of the query.
const privilegesSQL = `
with colacl as materialized (select distinct attrelid from pg_attribute where attacl is not null)
select n.nspname, c.relname, p.priv
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) as p(priv)
where n.nspname = any($2::text[]) and c.relkind in ('r', 'v', 'm', 'f', 'p')
  and has_schema_privilege($1, n.oid, 'USAGE')
  and (has_table_privilege($1, c.oid, p.priv)
       or (p.priv <> 'DELETE' and c.oid in (select attrelid from colacl) and has_any_column_privilege($1, c.oid, p.priv)))
union all
select distinct n.nspname, f.proname, 'EXECUTE'
from pg_proc f
join pg_namespace n on n.oid = f.pronamespace
where n.nspname = any($2::text[]) and has_schema_privilege($1, n.oid, 'USAGE')
  and has_function_privilege($1, f.oid, 'EXECUTE')`

// LoadPrivileges reads what role may do in schemas (one query).
func LoadPrivileges(ctx context.Context, conn Querier, role string, schemas []string) (Privileges, error) {
	var b pgx.Batch
	b.Queue(privilegesSQL, role, textArray(schemas))
	br := conn.SendBatch(ctx, &b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("reading the privileges of role %q: %w", role, err)
	}
	out := Privileges{}
	var k PrivKey
	_, err = pgx.ForEachRow(rows, []any{&k.Object.Schema, &k.Object.Name, &k.Priv}, func() error {
		out[k] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the privileges of role %q: %w", role, err)
	}
	return out, nil
}

// textArray renders names as a PostgreSQL text[] literal, so the query works in every pgx exec mode.
func textArray(names []string) string {
	out := []byte{'{'}
	for i, n := range names {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		for j := 0; j < len(n); j++ {
			if n[j] == '"' || n[j] == '\\' {
				out = append(out, '\\')
			}
			out = append(out, n[j])
		}
		out = append(out, '"')
	}
	return string(append(out, '}'))
}
