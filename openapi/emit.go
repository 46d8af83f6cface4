package openapi

import (
	"bytes"
	"cmp"
	"io"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// emitter writes the document's structure: maps whose members are written one by one (the large sections:
// components.parameters, components.schemas, paths), one sequence (tags), and members whose values it gets
// whole (everything else, each small).
type emitter interface {
	openMap(key string)
	member(key string, v any)
	closeMap()
	openSeq(key string)
	item(v any)
	closeSeq()
	finish() error
}

// emit writes the document: the top level's members in key order, as kin-openapi's marshalling sorts them.
func (b *builder) emit(e emitter) {
	e.openMap("components")
	e.member("headers", sharedHeaders())
	e.openMap("parameters")
	pkeys := slices.Collect(maps.Keys(b.params))
	pkeys = append(pkeys, slices.Collect(maps.Keys(b.shared))...)
	slices.Sort(pkeys)
	for _, k := range pkeys {
		if p, ok := b.shared[k]; ok {
			e.member(k, p)
			continue
		}
		g := b.params[k]
		if g.col != nil {
			e.member(k, filterParam(g.col))
		} else {
			e.member(k, b.selectParam(g.rel))
		}
	}
	e.closeMap()
	responses := sharedResponses()
	if b.batch != nil {
		responses.set("BatchFailed", b.batchFailed())
	}
	e.member("responses", responses)
	e.openMap("schemas")
	for _, k := range slices.Sorted(maps.Keys(b.schemas)) {
		e.member(k, b.schemas[k]())
	}
	e.closeMap()
	e.member("securitySchemes", securitySchemes())
	e.closeMap()

	openapi := "3.0.3"
	if b.v31 {
		openapi = "3.1.0"
	}
	e.member("info", object{{"title", cmp.Or(b.opts.Title, "pgway API")}, {"version", cmp.Or(b.opts.APIVersion, "1.0.0")},
		{"description", strings.TrimSpace(b.opts.Description + "\n\n" + operatorHelp())}})
	e.member("openapi", openapi)
	e.openMap("paths")
	for _, k := range slices.Sorted(maps.Keys(b.paths)) {
		e.member(k, b.paths[k]())
	}
	e.closeMap()
	// Without a proxy URI the API is relative to where the document was fetched from: "/" says so explicitly.
	e.member("security", []any{object{}, object{{"bearerAuth", []string{}}}})
	e.member("servers", []any{object{{"url", cmp.Or(b.opts.ServerURL, "/")}}})
	e.openSeq("tags")
	for _, t := range b.tagList {
		e.item(t)
	}
	e.closeSeq()
}

// jsonEmitter writes indented JSON (json.Indent's layout, two spaces), the whole document one object.
type jsonEmitter struct {
	j      jsonWriter
	counts []int // members written so far, per open map or sequence
}

func newJSONEmitter(w io.Writer) *jsonEmitter {
	e := &jsonEmitter{j: jsonWriter{w: w, indent: "  ", buf: make([]byte, 0, flushAt+flushAt/4)}}
	e.j.buf = append(e.j.buf, '{')
	e.counts = []int{0}
	return e
}

// next starts a member or item: a comma after the previous one, a new line, the indent.
func (e *jsonEmitter) next() {
	top := len(e.counts) - 1
	if e.counts[top] > 0 {
		e.j.buf = append(e.j.buf, ',')
	}
	e.counts[top]++
	e.j.newline(len(e.counts))
}

func (e *jsonEmitter) key(k string) {
	e.next()
	e.j.buf = appendString(e.j.buf, k)
	e.j.colon()
}

func (e *jsonEmitter) openMap(key string) {
	e.key(key)
	e.j.buf = append(e.j.buf, '{')
	e.counts = append(e.counts, 0)
}

func (e *jsonEmitter) member(key string, v any) {
	e.key(key)
	e.j.value(v, len(e.counts))
	e.j.maybeFlush()
}

func (e *jsonEmitter) close(c byte) {
	n := e.counts[len(e.counts)-1]
	e.counts = e.counts[:len(e.counts)-1]
	if n > 0 {
		e.j.newline(len(e.counts))
	}
	e.j.buf = append(e.j.buf, c)
}

func (e *jsonEmitter) closeMap() { e.close('}') }

func (e *jsonEmitter) openSeq(key string) {
	e.key(key)
	e.j.buf = append(e.j.buf, '[')
	e.counts = append(e.counts, 0)
}

func (e *jsonEmitter) item(v any) {
	e.next()
	e.j.value(v, len(e.counts))
	e.j.maybeFlush()
}

func (e *jsonEmitter) closeSeq() { e.close(']') }

func (e *jsonEmitter) finish() error {
	e.close('}')
	e.j.buf = append(e.j.buf, '\n')
	e.j.flush()
	return e.j.err
}

// yamlEmitter writes YAML as yaml.v3 writes the whole document parsed from its JSON (block style, indent 2,
// quoting only where needed), one member or item at a time: yamlDirect writes it, with yaml.v3 rendering each
// distinct scalar; what yamlDirect does not handle is written as compact JSON, parsed and encoded by yaml.v3
// alone, and indented to its depth (yaml.v3 does not wrap lines, so a block's layout does not depend on its
// depth).
type yamlEmitter struct {
	w       io.Writer
	buf     bytes.Buffer
	depth   int
	pending []string // maps opened but not written yet (an empty map is written "key: {}")
	counts  []int
	err     error
	json    jsonWriter
	direct  yamlDirect
}

func newYAMLEmitter(w io.Writer) *yamlEmitter {
	return &yamlEmitter{w: w, counts: []int{0}, direct: yamlDirect{keys: map[string]string{}, vals: map[string]string{}}}
}

func (e *yamlEmitter) indent(depth int) {
	for range depth {
		e.buf.WriteString("  ")
	}
}

// start writes the keys of the maps opened since the last member.
func (e *yamlEmitter) start() {
	base := e.depth - len(e.pending)
	for i, k := range e.pending {
		e.indent(base + i)
		e.buf.WriteString(k + ":\n") // the section keys are plain words
	}
	for i := len(e.counts) - 1 - len(e.pending); i < len(e.counts); i++ {
		e.counts[i]++ // each written map counts in its parent, and the member in the innermost
	}
	e.pending = e.pending[:0]
}

func (e *yamlEmitter) openMap(key string) {
	e.pending = append(e.pending, key)
	e.depth++
	e.counts = append(e.counts, 0)
}

func (e *yamlEmitter) closeMap() { e.close("{}") }

func (e *yamlEmitter) openSeq(key string) { e.openMap(key) }

func (e *yamlEmitter) closeSeq() { e.close("[]") }

// close ends the open map or sequence; one that got no member is written as empty ("{}" or "[]").
func (e *yamlEmitter) close(empty string) {
	n := e.counts[len(e.counts)-1]
	e.counts = e.counts[:len(e.counts)-1]
	e.depth--
	if n == 0 {
		k := e.pending[len(e.pending)-1]
		e.pending = e.pending[:len(e.pending)-1]
		e.start()
		e.indent(e.depth)
		e.buf.WriteString(k + ": " + empty + "\n")
	}
}

// member writes key: v at the current depth.
func (e *yamlEmitter) member(key string, v any) {
	e.start()
	mark := e.buf.Len()
	if e.direct.member(&e.buf, key, v, e.depth*2) {
		e.flushIfFull()
		return
	}
	e.buf.Truncate(mark) // something yamlDirect leaves to yaml.v3
	e.json.buf = append(e.json.buf[:0], '{')
	e.json.buf = appendString(e.json.buf, key)
	e.json.buf = append(e.json.buf, ':')
	e.json.value(v, 0)
	e.json.buf = append(e.json.buf, '}')
	e.chunk(e.depth)
}

// item writes - v at the current depth (a sequence is indented under its key).
func (e *yamlEmitter) item(v any) {
	e.start()
	mark := e.buf.Len()
	if e.direct.item(&e.buf, v, e.depth*2) {
		e.flushIfFull()
		return
	}
	e.buf.Truncate(mark)
	e.json.buf = append(e.json.buf[:0], '[')
	e.json.value(v, 0)
	e.json.buf = append(e.json.buf, ']')
	e.chunk(e.depth)
}

// chunk converts the compact JSON in e.json.buf to YAML and appends it indented by depth.
func (e *yamlEmitter) chunk(depth int) {
	if e.err != nil {
		return
	}
	var node yaml.Node
	if err := yaml.Unmarshal(e.json.buf, &node); err != nil {
		e.err = err
		return
	}
	plain(&node)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		e.err = err
		return
	}
	_ = enc.Close()
	indentLines(&e.buf, out.String(), depth*2, true) // blank lines of a literal block stay empty
	e.flushIfFull()
}

func (e *yamlEmitter) flushIfFull() {
	if e.buf.Len() >= flushAt {
		e.flush()
	}
}

func (e *yamlEmitter) flush() {
	if e.err == nil && e.buf.Len() > 0 {
		_, e.err = e.w.Write(e.buf.Bytes())
	}
	e.buf.Reset()
}

func (e *yamlEmitter) finish() error {
	e.flush()
	return e.err
}
