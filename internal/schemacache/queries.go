package schemacache

// Catalog queries, sent together as one pgx.Batch by Load. $1 is always the exposed schemas (text[]).
// Type names are qualified by hand (not with search_path tricks) so the result never depends on the
// connection's search_path: pg_catalog types print as format_type does ("character varying(20)",
// "integer[]"), every other type as "schema.name" (or "schema.name[]").

// typesCTE resolves domains to their base type (following domains over domains) and names every type.
//
//	dom_base(oid, base, typmod, def, nn): a domain, its final non-domain base type, the first typmod
//	  and default found walking down the chain, and whether any domain on the chain is NOT NULL.
//	typ(oid, catalog, name, category, typtype, elem_base): a type, whether it prints via format_type,
//	  its qualified name, pg_type.typcategory, typtype and, for arrays, the element's base type. Not
//	  materialized: joined by OID, it becomes index lookups of the few types asked for, where a materialized
//	  one would name every type of the database (two per table) and be scanned whole by each lookup (per
//	  function argument: seconds for a few thousand functions).
const typesCTE = `
with recursive
dom(oid, base, typmod, def, nn) as (
  select t.oid, t.typbasetype, t.typtypmod, pg_get_expr(t.typdefaultbin, 0), t.typnotnull
  from pg_type t where t.typtype = 'd'
  union all
  select dom.oid, t.typbasetype,
    case when dom.typmod <> -1 then dom.typmod else t.typtypmod end,
    coalesce(dom.def, pg_get_expr(t.typdefaultbin, 0)),
    dom.nn or t.typnotnull
  from dom join pg_type t on t.oid = dom.base and t.typtype = 'd'
),
dom_base as (
  select dom.* from dom join pg_type t on t.oid = dom.base and t.typtype <> 'd'
),
typ as not materialized (
  select t.oid,
    coalesce(en.nspname, n.nspname) = 'pg_catalog' as catalog,
    case
      when coalesce(en.nspname, n.nspname) = 'pg_catalog' then format_type(t.oid, null)
      when et.oid is not null then quote_ident(en.nspname) || '.' || quote_ident(et.typname) || '[]'
      else quote_ident(n.nspname) || '.' || quote_ident(t.typname)
    end as name,
    t.typcategory::text as category,
    t.typtype::text as typtype,
    case when et.oid is not null then coalesce(edb.base, et.oid) end as elem_base
  from pg_type t
  join pg_namespace n on n.oid = t.typnamespace
  left join pg_type et on t.typlen = -1 and t.typelem <> 0 and et.oid = t.typelem
  left join pg_namespace en on en.oid = et.typnamespace
  left join dom_base edb on edb.oid = et.oid
)`

// setupSQL empties search_path for the rest of the batch (the implicit transaction of a pipeline, or the
// caller's transaction), so pg_get_expr qualifies every name as PostgREST's output does
// ("nextval('api.books_id_seq'::regclass)"), turns JIT off (the catalog joins are cheap but badly estimated, and
// JIT compilation alone would cost close to a second) and gives the queries 64MB of work_mem (with the default
// 4MB, the columns of a schema of 10,000 tables spill to disk). restoreSQL puts the caller's values back.
const (
	setupSQL = `select set_config('pgway.saved_search_path', current_setting('search_path'), true),
  set_config('pgway.saved_jit', current_setting('jit'), true),
  set_config('pgway.saved_work_mem', current_setting('work_mem'), true),
  set_config('search_path', '', true),
  set_config('jit', 'off', true),
  set_config('work_mem', greatest(pg_size_bytes(current_setting('work_mem')), pg_size_bytes('64MB')) / 1024 || 'kB', true)`
	restoreSQL = `select set_config('search_path', current_setting('pgway.saved_search_path'), true),
  set_config('jit', current_setting('pgway.saved_jit'), true),
  set_config('work_mem', current_setting('pgway.saved_work_mem'), true)`
)

const versionSQL = `select current_setting('server_version_num')::int`

// relationsSQL: relations of the exposed schemas. Tables are fully writable; views and foreign tables
// report pg_relation_is_updatable's bits (8 insert, 4 update, 16 delete), which include INSTEAD OF triggers.
const relationsSQL = `
select c.oid, n.nspname, c.relname, c.relkind::text, coalesce(d.description, ''),
  case when c.relkind in ('r', 'p') then 28 else pg_relation_is_updatable(c.oid::regclass, true) end,
  c.relhasrules or tr.tgrelid is not null
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
left join (select distinct t.tgrelid from pg_trigger t where not t.tgisinternal) tr on tr.tgrelid = c.oid
where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'f', 'p') and not c.relispartition
order by n.nspname, c.relname`

// columnsSQL: columns of the relations of the exposed schemas (in no particular order: Load sorts them), and
// whether each is attnotnull (for tracing views). Each distinct column type is resolved once (coltypes: name,
// base type through domains, element type, enum labels, domain representations), and nothing is looked up per column but its default and comment (by join) and an identity
// column's sequence. Defaults are deparsed without a relation (pg_get_expr(…, 0)): a column default cannot refer to a
// column, and deparsing with the relation would open (and lock) every table.
const columnsSQL = typesCTE + `,
cols as materialized (
  select a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attgenerated, a.attidentity
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid
  where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'f', 'p') and not c.relispartition
    and a.attnum > 0 and not a.attisdropped
),
coltypes as materialized (
  select x.typid, ct.catalog, ct.name as ctname, bt.oid as btoid, bt.name as btname, bt.category,
    coalesce(elt.name, '') as eltname, db.typmod, db.def, coalesce(db.nn, false) as dnn,
    case when bt.typtype = 'e'
         then array(select e.enumlabel::text from pg_enum e where e.enumtypid = bt.oid order by e.enumsortorder)
         else '{}'::text[] end as labels,
    coalesce(reps.to_json, '') as to_json, coalesce(reps.from_text, '') as from_text, coalesce(reps.from_json, '') as from_json
  from (select distinct atttypid as typid from cols) x
  left join dom_base db on db.oid = x.typid
  join typ ct on ct.oid = x.typid
  join lateral (select * from typ where typ.oid = coalesce(db.base, x.typid) limit 1) bt on true -- limit: looked up by OID
  left join typ elt on elt.oid = bt.elem_base
  left join lateral (
    -- PostgREST's domain representations: implicit function casts between a domain and json / text.
    select max(case when cs.castsource = x.typid and cs.casttarget = 'json'::regtype then f.name end) as to_json,
           max(case when cs.casttarget = x.typid and cs.castsource = 'text'::regtype then f.name end) as from_text,
           max(case when cs.casttarget = x.typid and cs.castsource = 'json'::regtype then f.name end) as from_json
    from pg_cast cs
    join lateral (select quote_ident(fn.nspname) || '.' || quote_ident(fp.proname) as name
                  from pg_proc fp join pg_namespace fn on fn.oid = fp.pronamespace where fp.oid = cs.castfunc) f on true
    where x.typid in (cs.castsource, cs.casttarget) and cs.castcontext = 'i' and cs.castmethod = 'f'
      and has_function_privilege(cs.castfunc, 'execute')
      and exists (select 1 from pg_type dt where dt.oid = x.typid and dt.typtype = 'd')
  ) reps on true
)
select a.attrelid, a.attnum::int, a.attname,
  case when t.catalog then format_type(a.atttypid, a.atttypmod) else t.ctname end,
  t.btname,
  t.category,
  t.eltname,
  not (a.attnotnull or t.dnn),
  coalesce(case when a.attgenerated = '' then pg_get_expr(ad.adbin, 0) end,
           case when a.attidentity = 'd' then (
             -- the identity's sequence, from the catalog (pg_get_serial_sequence needs USAGE on the schema)
             select format('nextval(%L::regclass)', quote_ident(sn.nspname) || '.' || quote_ident(sq.relname))
             from pg_depend dp
             join pg_class sq on sq.oid = dp.objid and sq.relkind = 'S'
             join pg_namespace sn on sn.oid = sq.relnamespace
             where dp.classid = 'pg_class'::regclass and dp.refclassid = 'pg_class'::regclass
               and dp.refobjid = a.attrelid and dp.refobjsubid = a.attnum and dp.deptype = 'i') end,
           t.def, ''),
  a.attidentity <> '' or a.attgenerated <> '' or ad.adbin is not null or t.def is not null,
  a.attidentity = 'a' or a.attgenerated <> '',
  case when t.btoid in ('varchar'::regtype, 'bpchar'::regtype)
        and (case when a.atttypmod <> -1 then a.atttypmod else coalesce(t.typmod, -1) end) > 4
       then (case when a.atttypmod <> -1 then a.atttypmod else coalesce(t.typmod, -1) end) - 4
       else 0 end,
  t.labels,
  coalesce(d.description, ''),
  t.to_json, t.from_text, t.from_json,
  a.attnotnull
from cols a
join coltypes t on t.typid = a.atttypid
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
left join pg_description d on d.objoid = a.attrelid and d.classoid = 'pg_class'::regclass and d.objsubid = a.attnum`

// notNullSQL: NOT NULL columns of every user table whose columns columnsSQL does not list (outside the exposed
// schemas, or partitions), to carry nullability through views.
const notNullSQL = `
select a.attrelid, array_agg(a.attnum::int order by a.attnum)
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
where a.attnotnull and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'f')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_toast%'
  and (n.nspname <> all($1) or c.relispartition)
group by a.attrelid`

// constraintsSQL: primary keys, unique constraints and foreign keys of every user table (not only the
// exposed ones: views in exposed schemas are often built over tables in private schemas). Constraints
// inherited by partitions (conparentid <> 0) are left out. Columns come in key order, by number; their names
// only for tables columnsSQL does not list (Load names the others from their columns).
const constraintsSQL = `
select c.conname, c.contype::text,
  c.conrelid, n1.nspname, r1.relname,
  case when n1.nspname = any($1) and r1.relkind in ('r', 'v', 'm', 'f', 'p') and not r1.relispartition then '{}'::text[]
  else array(select a.attname::text from unnest(c.conkey) with ordinality k(num, ord)
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.num order by k.ord) end,
  c.conkey::int[],
  c.confrelid, coalesce(n2.nspname, ''), coalesce(r2.relname, ''),
  case when c.confrelid = 0 or (n2.nspname = any($1) and r2.relkind in ('r', 'v', 'm', 'f', 'p') and not r2.relispartition)
  then '{}'::text[]
  else array(select a.attname::text from unnest(c.confkey) with ordinality k(num, ord)
        join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.num order by k.ord) end,
  coalesce(c.confkey::int[], '{}')
from pg_constraint c
join pg_class r1 on r1.oid = c.conrelid
join pg_namespace n1 on n1.oid = r1.relnamespace
left join pg_class r2 on r2.oid = c.confrelid
left join pg_namespace n2 on n2.oid = r2.relnamespace
where c.contype in ('p', 'u', 'f') and c.conparentid = 0
  and n1.nspname not in ('pg_catalog', 'information_schema')
order by n1.nspname, r1.relname, c.conname`

// viewsSQL: the rewrite rule (pg_node_tree text) of every user view and materialized view; Go parses the
// top-level target list to trace view columns to base-table columns, through views over views.
const viewsSQL = `
select c.oid, r.ev_action::text
from pg_rewrite r
join pg_class c on c.oid = r.ev_class
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('v', 'm') and r.rulename = '_RETURN'
  and n.nspname not in ('pg_catalog', 'information_schema')`

// routinesSQL: functions (not procedures, aggregates, window or trigger functions) of the exposed schemas with
// their input parameters (IN, INOUT, VARIADIC) in order.
const routinesSQL = typesCTE + `
select n.nspname, p.proname, coalesce(d.description, ''),
  coalesce(args.names, '{}'), coalesce(args.types, '{}'), coalesce(args.modes, '{}'),
  p.pronargdefaults::int,
  p.provolatile::text, p.proretset, p.provariadic <> 0,
  case when rt.catalog then format_type(p.prorettype, null) else rt.name end,
  coalesce((select bt.typtype::text from pg_type bt where bt.oid = rdb.base), rt.typtype),
  coalesce(p.proargmodes::text[] && '{t,b,o}', false),
  coalesce(rn.nspname, ''), coalesce(rc.relname, ''),
  coalesce(outs.names, cols.names, '{}'), coalesce(outs.types, cols.types, '{}'), p.prorows::float8,
  coalesce((select lower(mt.typname) from pg_type mt
            where mt.oid = p.prorettype and mt.typtype = 'd' and not p.proretset
              and (mt.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.\+-]+$' or mt.typname = '*/*')), ''),
  coalesce(p.proconfig, '{}')
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join typ rt on rt.oid = p.prorettype
left join dom_base rdb on rdb.oid = p.prorettype -- a domain over a row type returns that row type
left join pg_class rc on rc.reltype = coalesce(rdb.base, p.prorettype) and rc.relkind in ('r', 'v', 'm', 'f', 'p')
left join pg_namespace rn on rn.oid = rc.relnamespace
left join pg_description d on d.objoid = p.oid and d.classoid = 'pg_proc'::regclass and d.objsubid = 0
left join lateral (
  select array_agg(coalesce(a.name, '') order by a.idx) as names,
         array_agg(case when at.catalog then format_type(a.typ, null) else at.name end order by a.idx) as types,
         array_agg(coalesce(a.mode, 'i') order by a.idx) as modes
  from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargmodes::text[], p.proargnames)
       with ordinality a(typ, mode, name, idx)
  join typ at on at.oid = a.typ
  where coalesce(a.mode, 'i') in ('i', 'b', 'v')
) args on true
left join lateral (
  select array_agg(coalesce(a.name, '') order by a.idx) as names,
         array_agg(case when at.catalog then format_type(a.typ, null) else at.name end order by a.idx) as types
  from unnest(p.proallargtypes, p.proargmodes::text[], p.proargnames) with ordinality a(typ, mode, name, idx)
  join typ at on at.oid = a.typ
  where a.mode in ('o', 'b', 't')
) outs on true
left join lateral (
  select array_agg(att.attname::text order by att.attnum) as names,
         array_agg(format_type(att.atttypid, att.atttypmod) order by att.attnum) as types
  from pg_type ct join pg_attribute att on att.attrelid = ct.typrelid
  where ct.oid = coalesce(rdb.base, p.prorettype) and ct.typrelid <> 0 and att.attnum > 0 and not att.attisdropped
) cols on true
where n.nspname = any($1) and p.prokind = 'f'
  and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
order by n.nspname, p.proname, p.oid`

// mediaHandlersSQL: PostgREST's aggregate media type handlers: one-argument aggregates of the exposed schemas
// whose result is a domain named as a media type (or "*/*"), over a relation's row type or anyelement.
const mediaHandlersSQL = `
select pn.nspname, p.proname, coalesce(rn.nspname, ''), coalesce(rc.relname, ''), lower(mt.typname)
from pg_proc p
join pg_aggregate ag on ag.aggfnoid = p.oid
join pg_namespace pn on pn.oid = p.pronamespace
join pg_type mt on mt.oid = p.prorettype and mt.typtype = 'd'
join pg_type arg on arg.oid = p.proargtypes[0]
left join pg_class rc on rc.reltype = arg.oid and rc.relkind in ('r', 'v', 'm', 'f', 'p')
left join pg_namespace rn on rn.oid = rc.relnamespace
where pn.nspname = any($1) and p.pronargs = 1
  and (mt.typname ~* '^[A-Za-z0-9.-]+/[A-Za-z0-9.\+-]+$' or mt.typname = '*/*')
  and (rc.oid is not null or arg.oid = 'anyelement'::regtype)
order by 1, 2`

// castTypesSQL lists the types a request may cast to (select=col::type): base, composite (of relations and
// CREATE TYPE … AS), domain, enum, range and multirange types of pg_catalog and the exposed schemas, with
// format_type's name (qualified outside pg_catalog, as search_path is empty during Load) and the array type.
// Pseudo-types are left out, and so are the OID alias types (regclass, regrole, …), whose input and output
// look names up in the catalogs.
const castTypesSQL = `
select t.oid, n.nspname, t.typname, format_type(t.oid, null), t.typcategory::text, t.typarray
from pg_type t
join pg_namespace n on n.oid = t.typnamespace
where (n.nspname = 'pg_catalog' or n.nspname = any($1))
  and t.typisdefined
  and t.typtype in ('b', 'c', 'd', 'e', 'r', 'm')
  and not (t.typtype = 'c' and n.nspname = 'pg_catalog')
  and not (n.nspname = 'pg_catalog' and t.typname ~ '^_?reg')
  and (t.typtype <> 'c' or exists (
    select 1 from pg_class c where c.oid = t.typrelid and c.relkind in ('c', 'r', 'v', 'm', 'f', 'p')))`
