package openapi

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Change is one difference between two documents.
type Change struct {
	Breaking bool
	// Where is a JSON-pointer-like location: "paths./books.get", "components.schemas.books.properties.year".
	Where string
	What  string
}

func (c Change) String() string { return c.Where + ": " + c.What }

// Diff lists the changes from old to new: removed paths, operations, parameters and properties, changed types,
// newly required fields and parameters, and narrowed enums are breaking; additions are not.
func Diff(old, new *openapi3.T) []Change {
	var out []Change
	add := func(breaking bool, where, format string, args ...any) {
		out = append(out, Change{Breaking: breaking, Where: where, What: fmt.Sprintf(format, args...)})
	}
	oldPaths, newPaths := pathMap(old), pathMap(new)
	for _, p := range sortedKeys(oldPaths) {
		np, ok := newPaths[p]
		if !ok {
			add(true, "paths."+p, "path removed")
			continue
		}
		op := oldPaths[p]
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
			o, n := op.GetOperation(m), np.GetOperation(m)
			where := "paths." + p + "." + strings.ToLower(m)
			switch {
			case o != nil && n == nil:
				add(true, where, "operation removed")
			case o == nil && n != nil:
				add(false, where, "operation added")
			case o != nil:
				diffParams(add, where, o.Parameters, n.Parameters)
			}
		}
	}
	for _, p := range sortedKeys(newPaths) {
		if _, ok := oldPaths[p]; !ok {
			add(false, "paths."+p, "path added")
		}
	}
	oldSchemas, newSchemas := schemaMap(old), schemaMap(new)
	for _, name := range sortedKeys(oldSchemas) {
		where := "components.schemas." + name
		ns, ok := newSchemas[name]
		if !ok {
			add(true, where, "schema removed")
			continue
		}
		diffSchema(add, where, oldSchemas[name], ns)
	}
	for _, name := range sortedKeys(newSchemas) {
		if _, ok := oldSchemas[name]; !ok {
			add(false, "components.schemas."+name, "schema added")
		}
	}
	return out
}

// Breaking reports whether any change breaks clients.
func Breaking(cs []Change) bool {
	return slices.ContainsFunc(cs, func(c Change) bool { return c.Breaking })
}

type addFunc func(breaking bool, where, format string, args ...any)

func diffParams(add addFunc, where string, old, new openapi3.Parameters) {
	key := func(p *openapi3.Parameter) string { return p.In + ":" + p.Name }
	index := func(ps openapi3.Parameters) map[string]*openapi3.Parameter {
		m := map[string]*openapi3.Parameter{}
		for _, r := range ps {
			if r != nil && r.Value != nil {
				m[key(r.Value)] = r.Value
			}
		}
		return m
	}
	om, nm := index(old), index(new)
	for _, k := range sortedKeys(om) {
		n, ok := nm[k]
		w := where + ".parameters." + k
		if !ok {
			add(true, w, "parameter removed")
			continue
		}
		if n.Required && !om[k].Required {
			add(true, w, "parameter became required")
		}
		if om[k].Schema != nil && n.Schema != nil {
			diffSchema(add, w, om[k].Schema.Value, n.Schema.Value)
		}
	}
	for _, k := range sortedKeys(nm) {
		if _, ok := om[k]; !ok {
			add(nm[k].Required, where+".parameters."+k, "parameter added%s", map[bool]string{true: " (required)", false: ""}[nm[k].Required])
		}
	}
}

func diffSchema(add addFunc, where string, o, n *openapi3.Schema) {
	if o == nil || n == nil {
		return
	}
	if ot, nt := typeString(o), typeString(n); ot != nt && ot != "" {
		add(true, where, "type changed from %s to %s", ot, nt)
	}
	if o.Format != n.Format && o.Format != "" {
		add(true, where, "format changed from %q to %q", o.Format, n.Format)
	}
	if len(o.Enum) > 0 {
		var removed []string
		for _, v := range o.Enum {
			if len(n.Enum) > 0 && !slices.ContainsFunc(n.Enum, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
				removed = append(removed, fmt.Sprint(v))
			}
		}
		if len(removed) > 0 {
			add(true, where, "enum narrowed: %s removed", strings.Join(removed, ", "))
		}
	} else if len(n.Enum) > 0 {
		add(true, where, "enum introduced")
	}
	if o.MaxLength != nil && n.MaxLength != nil && *n.MaxLength < *o.MaxLength || o.MaxLength == nil && n.MaxLength != nil {
		add(true, where, "maxLength narrowed")
	}
	for _, r := range n.Required {
		if !slices.Contains(o.Required, r) {
			add(true, where+".properties."+r, "newly required")
		}
	}
	for _, p := range sortedKeys(o.Properties) {
		w := where + ".properties." + p
		np, ok := n.Properties[p]
		if !ok {
			add(true, w, "property removed")
			continue
		}
		if o.Properties[p] != nil && np != nil {
			diffSchema(add, w, o.Properties[p].Value, np.Value)
		}
	}
	for _, p := range sortedKeys(n.Properties) {
		if _, ok := o.Properties[p]; !ok {
			add(false, where+".properties."+p, "property added")
		}
	}
	if o.Items != nil && n.Items != nil {
		diffSchema(add, where+".items", o.Items.Value, n.Items.Value)
	}
}

func typeString(s *openapi3.Schema) string {
	if s.Type == nil {
		return ""
	}
	ts := slices.Clone(s.Type.Slice())
	ts = slices.DeleteFunc(ts, func(t string) bool { return t == "null" })
	sort.Strings(ts)
	return strings.Join(ts, "|")
}

func pathMap(doc *openapi3.T) map[string]*openapi3.PathItem {
	m := map[string]*openapi3.PathItem{}
	if doc != nil && doc.Paths != nil {
		for k, v := range doc.Paths.Map() {
			m[k] = v
		}
	}
	return m
}

func schemaMap(doc *openapi3.T) map[string]*openapi3.Schema {
	m := map[string]*openapi3.Schema{}
	if doc != nil {
		for k, v := range doc.Components.Schemas {
			if v != nil && v.Value != nil {
				m[k] = v.Value
			}
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
