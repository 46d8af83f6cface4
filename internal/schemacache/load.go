package schemacache

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is the part of pgx Load needs; *pgx.Conn, *pgxpool.Pool, *pgxpool.Conn and pgx.Tx satisfy it.
type Querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// catalog is the raw result of the catalog queries, keyed by OID, before it becomes a Cache.
type catalog struct {
	version   int
	relations []*Relation
	relByOID  map[uint32]*Relation
	notNull   map[uint32][]int
	cons      []constraint
	views     map[uint32]map[int]colRef // view OID → view column → origin (immediate)
	routines  []*Routine
	retRel    map[*Routine]QName
	handlers  map[HandlerKey]*MediaHandler
	types     castTypes
	geoJSON   *QName
}

// constraint is a PK, unique key or FK of a table, with column names and numbers in key order.
type constraint struct {
	name       string
	typ        byte // 'p', 'u', 'f'
	rel        uint32
	relName    QName
	cols       []string
	colNums    []int
	ref        uint32
	refName    QName
	refCols    []string
	refColNums []int
}

// Load introspects the exposed schemas in one round trip (one pgx.Batch of catalog queries) and returns
// an immutable Cache. schemas are the exposed schemas in configuration order.
func Load(ctx context.Context, conn Querier, schemas []string) (*Cache, error) {
	return LoadOn(ctx, []Querier{conn}, schemas)
}

// LoadOn is Load over one or two connections: with two, the columns of the exposed relations (the largest
// query) are read on the second while the other catalog queries run on the first, in parallel.
func LoadOn(ctx context.Context, conns []Querier, schemas []string) (*Cache, error) {
	start := time.Now()
	cat, err := queryCatalog(ctx, conns, schemas)
	if err != nil {
		return nil, err
	}
	queried := time.Since(start)
	c := build(cat, schemas)
	c.LoadedAt = start
	c.QueryDuration = queried
	c.LoadDuration = time.Since(start)
	return c, nil
}

// colRow is one row of columnsSQL, attached to its relation once every query has answered.
type colRow struct {
	relid   uint32
	col     *Column
	notNull bool
}

func queryCatalog(ctx context.Context, conns []Querier, schemas []string) (*catalog, error) {
	if schemas == nil {
		schemas = []string{}
	}
	b := &pgx.Batch{}
	cat := &catalog{
		relByOID: map[uint32]*Relation{},
		notNull:  map[uint32][]int{},
		views:    map[uint32]map[int]colRef{},
		retRel:   map[*Routine]QName{},
		handlers: map[HandlerKey]*MediaHandler{},
		types:    castTypes{},
	}
	b.Queue(setupSQL)
	b.Queue(versionSQL).QueryRow(func(row pgx.Row) error {
		return row.Scan(&cat.version)
	})
	b.Queue(relationsSQL, schemas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				oid       uint32
				r         Relation
				kind      string
				updatable int32
			)
			if err := rows.Scan(&oid, &r.Schema, &r.Name, &kind, &r.Comment, &updatable, &r.HasTriggers); err != nil {
				return fmt.Errorf("loading relations: %w", err)
			}
			r.Kind = relKind(kind)
			r.Insertable = updatable&8 != 0
			r.Updatable = updatable&4 != 0
			r.Deletable = updatable&16 != 0
			cat.relations = append(cat.relations, &r)
			cat.relByOID[oid] = &r
		}
		return rows.Err()
	})
	// The columns go on a batch of their own when there is a second connection.
	cb := b
	if len(conns) > 1 {
		cb = &pgx.Batch{}
		cb.Queue(setupSQL)
	}
	var cols []colRow
	cb.Queue(columnsSQL, schemas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				relid   uint32
				col     = &Column{}
				cat_    string
				notNull bool
			)
			if err := rows.Scan(&relid, &col.Position, &col.Name, &col.Type, &col.BaseType, &cat_, &col.ElemType,
				&col.Nullable, &col.Default, &col.HasDefault, &col.Generated, &col.MaxLength, &col.EnumValues,
				&col.Comment, &col.Rep.ToJSON, &col.Rep.FromText, &col.Rep.FromJSON, &notNull); err != nil {
				return fmt.Errorf("loading columns: %w", err)
			}
			if cat_ != "" {
				col.TypeCategory = cat_[0]
			}
			if len(col.EnumValues) == 0 {
				col.EnumValues = nil
			}
			cols = append(cols, colRow{relid, col, notNull})
		}
		return rows.Err()
	})
	b.Queue(notNullSQL, schemas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				relid uint32
				nums  []int
			)
			if err := rows.Scan(&relid, &nums); err != nil {
				return fmt.Errorf("loading not-null columns: %w", err)
			}
			cat.notNull[relid] = nums
		}
		return rows.Err()
	})
	b.Queue(constraintsSQL, schemas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				k   constraint
				typ string
			)
			if err := rows.Scan(&k.name, &typ, &k.rel, &k.relName.Schema, &k.relName.Name, &k.cols, &k.colNums,
				&k.ref, &k.refName.Schema, &k.refName.Name, &k.refCols, &k.refColNums); err != nil {
				return fmt.Errorf("loading constraints: %w", err)
			}
			k.typ = typ[0]
			cat.cons = append(cat.cons, k)
		}
		return rows.Err()
	})
	b.Queue(viewsSQL).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				oid  uint32
				tree string
			)
			if err := rows.Scan(&oid, &tree); err != nil {
				return fmt.Errorf("loading view definitions: %w", err)
			}
			refs, err := viewColumnOrigins(tree)
			if err != nil {
				return fmt.Errorf("parsing definition of view %d: %w", oid, err)
			}
			cat.views[oid] = refs
		}
		return rows.Err()
	})
	b.Queue(routinesSQL, schemas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				r                   Routine
				names, types, modes []string
				nDefaults           int
				vol, typtype        string
				outParams           bool
				relSchema, relName  string
				outNames, outTypes  []string
				config              []string
			)
			if err := rows.Scan(&r.Schema, &r.Name, &r.Comment, &names, &types, &modes, &nDefaults, &vol,
				&r.ReturnsSet, &r.Variadic, &r.ReturnType, &typtype, &outParams, &relSchema, &relName, &outNames, &outTypes, &r.Rows, &r.MediaType, &config); err != nil {
				return fmt.Errorf("loading routines: %w", err)
			}
			r.Volatility = vol[0]
			for _, kv := range config {
				if k, v, ok := strings.Cut(kv, "="); ok {
					r.Settings = append(r.Settings, [2]string{k, v})
				}
			}
			for i := range names {
				r.Params = append(r.Params, RoutineParam{
					Name:       names[i],
					Type:       types[i],
					HasDefault: i >= len(names)-nDefaults,
					Variadic:   modes[i] == "v",
				})
			}
			for i := range outNames {
				r.Columns = append(r.Columns, RoutineParam{Name: outNames[i], Type: outTypes[i]})
			}
			// Like PostgREST: OUT/INOUT/TABLE parameters make the result composite, even a single one; a bare record
			// is a scalar (its JSON carries the returned row's own keys).
			r.ReturnsScalar = typtype != "c" && !outParams
			if relName != "" {
				cat.retRel[&r] = QName{relSchema, relName}
			}
			cat.routines = append(cat.routines, &r)
		}
		return rows.Err()
	})
	b.Queue(mediaHandlersSQL, schemas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var h MediaHandler
			var k HandlerKey
			if err := rows.Scan(&h.Aggregate.Schema, &h.Aggregate.Name, &k.Target.Schema, &k.Target.Name, &k.Media); err != nil {
				return fmt.Errorf("loading media type handlers: %w", err)
			}
			h.Media, h.Target = k.Media, k.Target
			cat.handlers[k] = &h
		}
		return rows.Err()
	})
	b.Queue(castTypesSQL, schemas).Query(func(rows pgx.Rows) error {
		arrays := map[*Type]uint32{}
		byOID := map[uint32]*Type{}
		for rows.Next() {
			var (
				t     Type
				cat_  string
				array uint32
			)
			if err := rows.Scan(&t.OID, &t.Schema, &t.Name, &t.SQL, &cat_, &array); err != nil {
				return fmt.Errorf("loading types: %w", err)
			}
			if cat_ != "" {
				t.Category = cat_[0]
			}
			cat.types.add(&t)
			byOID[t.OID] = &t
			if array != 0 {
				arrays[&t] = array
			}
		}
		for t, a := range arrays {
			t.Array = byOID[a]
		}
		return rows.Err()
	})
	queueGeoJSON(b, &cat.geoJSON)
	b.Queue(restoreSQL)
	var colErr error
	var wg sync.WaitGroup
	if cb != b {
		cb.Queue(restoreSQL)
		wg.Add(1)
		go func() {
			defer wg.Done()
			colErr = conns[1].SendBatch(ctx, cb).Close()
		}()
	}
	err := conns[0].SendBatch(ctx, b).Close()
	wg.Wait()
	if err = cmp.Or(err, colErr); err != nil {
		return nil, fmt.Errorf("querying catalog: %w", err)
	}
	cat.addColumns(cols)
	if err := cat.nameKeyColumns(); err != nil {
		return nil, err
	}
	return cat, nil
}

// addColumns attaches the columns to their relations, in ordinal order (the query does not sort: a sort of
// every column's row would spill to disk), and notes the NOT NULL ones.
func (cat *catalog) addColumns(cols []colRow) {
	for _, c := range cols {
		r := cat.relByOID[c.relid]
		if r == nil {
			continue
		}
		r.Columns = append(r.Columns, c.col)
		if c.notNull {
			cat.notNull[c.relid] = append(cat.notNull[c.relid], c.col.Position)
		}
	}
	for _, r := range cat.relations {
		if !slices.IsSortedFunc(r.Columns, byPosition) {
			slices.SortFunc(r.Columns, byPosition)
		}
	}
}

func byPosition(a, b *Column) int { return a.Position - b.Position }

// nameKeyColumns names the key columns of the constraints on relations whose columns were loaded (the query
// names only the others).
func (cat *catalog) nameKeyColumns() error {
	names := func(rel uint32, nums []int, what string, k *constraint) ([]string, error) {
		r := cat.relByOID[rel]
		out := make([]string, len(nums))
		for i, n := range nums {
			j, ok := slices.BinarySearchFunc(r.Columns, n, func(c *Column, n int) int { return c.Position - n })
			if !ok {
				return nil, fmt.Errorf("loading constraints: %s column %d of %s.%s (constraint %s) not found", what, n,
					r.Schema, r.Name, k.name)
			}
			out[i] = r.Columns[j].Name
		}
		return out, nil
	}
	var err error
	for i := range cat.cons {
		k := &cat.cons[i]
		if len(k.cols) == 0 && len(k.colNums) > 0 && cat.relByOID[k.rel] != nil {
			if k.cols, err = names(k.rel, k.colNums, "key", k); err != nil {
				return err
			}
		}
		if len(k.refCols) == 0 && len(k.refColNums) > 0 && cat.relByOID[k.ref] != nil {
			if k.refCols, err = names(k.ref, k.refColNums, "referenced", k); err != nil {
				return err
			}
		}
	}
	return nil
}

func relKind(k string) RelKind {
	switch k {
	case "v":
		return KindView
	case "m":
		return KindMaterializedView
	case "f":
		return KindForeignTable
	case "p":
		return KindPartitionedTable
	}
	return KindTable
}

// build turns the raw catalog into a Cache: keys, view tracing, relationships, routines.
func build(cat *catalog, schemas []string) *Cache {
	c := &Cache{
		Schemas:       slices.Clone(schemas),
		Relations:     make(map[QName]*Relation, len(cat.relations)),
		Routines:      map[QName][]*Routine{},
		Relationships: map[QName][]*Relationship{},
		ServerVersion: cat.version,
		MediaHandlers: cat.handlers,
		GeoJSON:       cat.geoJSON,
		castTypes:     cat.types,
	}
	for _, r := range cat.relations {
		c.Relations[QName{r.Schema, r.Name}] = r
	}
	// Table keys.
	for _, k := range cat.cons {
		r := cat.relByOID[k.rel]
		if r == nil {
			continue
		}
		switch k.typ {
		case 'p':
			r.PrimaryKey = slices.Clone(k.cols)
		case 'f':
			r.ForeignKeys = append(r.ForeignKeys, &ForeignKey{
				Name: k.name, Columns: slices.Clone(k.cols), Ref: k.refName, RefColumns: slices.Clone(k.refCols),
			})
		}
	}
	tr := newTracer(cat)
	tr.viewNullability()
	tr.viewPrimaryKeys()
	c.Relationships = buildRelationships(cat, tr, schemas)
	for _, r := range cat.relations {
		r.Index()
	}
	for _, r := range cat.routines {
		if q, ok := cat.retRel[r]; ok {
			if _, known := c.Relations[q]; known {
				r.ReturnsRelation = &q
			}
		}
		key := QName{r.Schema, r.Name}
		c.Routines[key] = append(c.Routines[key], r)
	}
	addComputed(c, cat.routines)
	for _, overloads := range c.Routines {
		slices.SortStableFunc(overloads, func(a, b *Routine) int {
			if d := len(a.Params) - len(b.Params); d != 0 {
				return d
			}
			return strings.Compare(paramTypes(a), paramTypes(b))
		})
	}
	return c
}

func paramTypes(r *Routine) string {
	var sb strings.Builder
	for _, p := range r.Params {
		sb.WriteString(p.Type)
		sb.WriteByte(',')
	}
	return sb.String()
}

// addComputed finds PostgREST's computed fields and relationships: functions whose only parameter is a
// relation's row type. Returning rows of a known relation makes a relationship (to-many for SETOF), anything
// else a virtual column named after the function.
// splitQualified splits a type name as the catalog queries render it (quote_ident(schema).quote_ident(name)),
// undoing the quoting: "my ""odd"" schema".t → my "odd" schema, t.
func splitQualified(s string) (schema, name string, ok bool) {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case c == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	if len(parts) != 2 || quoted {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func addComputed(c *Cache, routines []*Routine) {
	rowTypes := make(map[string]*Relation, len(c.Relations))
	for q, r := range c.Relations {
		rowTypes[q.Schema+"."+q.Name] = r
	}
	for _, fn := range routines {
		if len(fn.Params) != 1 {
			continue
		}
		argSchema, argName, ok := splitQualified(fn.Params[0].Type)
		rel := rowTypes[argSchema+"."+argName]
		if !ok || rel == nil {
			continue
		}
		src := QName{rel.Schema, rel.Name}
		name := QName{fn.Schema, fn.Name}
		if fn.ReturnsRelation != nil {
			card := ManyToOne
			if fn.ReturnsSet && fn.Rows != 1 { // SETOF ... ROWS 1 is to-one, as PostgREST reads it
				card = OneToMany
			}
			c.Relationships[src] = append(c.Relationships[src], &Relationship{
				Source: src, Target: *fn.ReturnsRelation, Cardinality: card, Computed: &name,
			})
			continue
		}
		if _, clash := rel.Column(fn.Name); clash || fn.ReturnType == "void" {
			continue
		}
		rel.computed = append(rel.computed, &Column{Name: fn.Name, Position: len(rel.Columns) + len(rel.computed) + 1,
			Type: fn.ReturnType, BaseType: fn.ReturnType, Nullable: true, Function: &name, RowOf: &src})
	}
}
