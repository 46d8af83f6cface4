package schemacache

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

var kindNames = [...]string{"table", "view", "materialized view", "foreign table", "partitioned table"}

func (k RelKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("RelKind(%d)", k)
}

var cardinalityNames = [...]string{"M2O", "O2M", "O2O", "M2M"}

func (c Cardinality) String() string {
	if int(c) < len(cardinalityNames) {
		return cardinalityNames[c]
	}
	return fmt.Sprintf("Cardinality(%d)", c)
}

func (q QName) String() string { return q.Schema + "." + q.Name }

// Dump renders the cache as stable, human-readable text (sorted; no timings), for golden tests and debugging.
func (c *Cache) Dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schemas: %s\n", strings.Join(c.Schemas, ", "))
	for _, q := range sortedKeys(c.Relations) {
		r := c.Relations[q]
		fmt.Fprintf(&b, "\n%s %s", r.Kind, q)
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{r.Insertable, "insertable"}, {r.Updatable, "updatable"}, {r.Deletable, "deletable"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(&b, " [%s]", strings.Join(flags, " "))
		if r.Comment != "" {
			fmt.Fprintf(&b, " -- %q", r.Comment)
		}
		b.WriteString("\n")
		if len(r.PrimaryKey) > 0 {
			fmt.Fprintf(&b, "  pk (%s)\n", strings.Join(r.PrimaryKey, ", "))
		}
		for _, col := range r.Columns {
			fmt.Fprintf(&b, "  %d %s %s", col.Position, col.Name, col.Type)
			if col.BaseType != col.Type {
				fmt.Fprintf(&b, " base=%s", col.BaseType)
			}
			fmt.Fprintf(&b, " cat=%c", col.TypeCategory)
			if col.ElemType != "" {
				fmt.Fprintf(&b, " elem=%s", col.ElemType)
			}
			if !col.Nullable {
				b.WriteString(" not-null")
			}
			if col.HasDefault {
				fmt.Fprintf(&b, " default=%q", col.Default)
			}
			if col.Generated {
				b.WriteString(" generated")
			}
			if col.MaxLength > 0 {
				fmt.Fprintf(&b, " maxlen=%d", col.MaxLength)
			}
			if len(col.EnumValues) > 0 {
				fmt.Fprintf(&b, " enum=%s", strings.Join(col.EnumValues, "|"))
			}
			if col.Comment != "" {
				fmt.Fprintf(&b, " -- %q", col.Comment)
			}
			b.WriteString("\n")
		}
		for _, fk := range r.ForeignKeys {
			fmt.Fprintf(&b, "  fk %s (%s) -> %s (%s)\n", fk.Name, strings.Join(fk.Columns, ", "), fk.Ref,
				strings.Join(fk.RefColumns, ", "))
		}
		for _, rel := range c.Relationships[q] {
			fmt.Fprintf(&b, "  rel %s\n", rel)
		}
	}
	for _, q := range sortedKeys(c.Relationships) {
		if _, ok := c.Relations[q]; !ok {
			for _, rel := range c.Relationships[q] {
				fmt.Fprintf(&b, "\nrel %s\n", rel)
			}
		}
	}
	for _, q := range sortedKeys(c.Routines) {
		for _, r := range c.Routines[q] {
			fmt.Fprintf(&b, "\nfunction %s(", q)
			for i, p := range r.Params {
				if i > 0 {
					b.WriteString(", ")
				}
				if p.Variadic {
					b.WriteString("variadic ")
				}
				if p.Name != "" {
					b.WriteString(p.Name + " ")
				}
				b.WriteString(p.Type)
				if p.HasDefault {
					b.WriteString(" default")
				}
			}
			b.WriteString(") returns ")
			if r.ReturnsSet {
				b.WriteString("setof ")
			}
			fmt.Fprintf(&b, "%s volatility=%c", r.ReturnType, r.Volatility)
			if r.ReturnsRelation != nil {
				fmt.Fprintf(&b, " relation=%s", r.ReturnsRelation)
			}
			if r.ReturnsScalar {
				b.WriteString(" scalar")
			}
			if r.Variadic {
				b.WriteString(" variadic")
			}
			if r.Comment != "" {
				fmt.Fprintf(&b, " -- %q", r.Comment)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// String renders a relationship on one line, e.g. "M2O public.books(author_id) -> public.authors(id) via books_author_id_fkey".
func (r *Relationship) String() string {
	s := fmt.Sprintf("%s %s(%s) -> %s(%s) via %s", r.Cardinality, r.Source, strings.Join(r.SourceColumns, ","),
		r.Target, strings.Join(r.TargetColumns, ","), r.Constraint)
	if j := r.Junction; j != nil {
		s += fmt.Sprintf(" through %s(%s | %s) %s", j.Table, strings.Join(j.SourceColumns, ","),
			strings.Join(j.TargetColumns, ","), j.TargetConstraint)
	}
	return s
}

func sortedKeys[V any](m map[QName]V) []QName {
	return slices.SortedFunc(maps.Keys(m), func(a, b QName) int {
		return cmp.Or(cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Name, b.Name))
	})
}
