// Drives pgway through the real @supabase/postgrest-js client. Usage: node client.mjs http://host:port
// Prints one line per check and exits 1 when any check fails.
import { PostgrestClient } from '@supabase/postgrest-js'
import assert from 'node:assert/strict'

const url = process.argv[2]
const db = new PostgrestClient(url, { schema: 'api' })
const other = new PostgrestClient(url, { schema: 'other' })

const checks = []
const check = (name, fn) => checks.push([name, fn])
const ok = (res) => {
  if (res.error) throw new Error(`unexpected error ${res.status}: ${JSON.stringify(res.error)}`)
  return res
}

check('select with filter and order', async () => {
  const { data, status } = ok(await db.from('items').select('id,name').in('id', [1, 2, 3]).order('id', { ascending: false }))
  assert.equal(status, 200)
  assert.deepEqual(data, [{ id: 3, name: 'cherry pie' }, { id: 2, name: 'banana' }, { id: 1, name: 'apple' }])
})
check('count exact with head', async () => {
  const { count, data, status } = ok(await db.from('items').select('*', { count: 'exact', head: true }))
  assert.equal(status, 200)
  assert.equal(count, 5)
  assert.equal(data, null)
})
check('range gives 206 with count', async () => {
  const { data, count, status } = ok(await db.from('items').select('id', { count: 'exact' }).order('id').range(1, 2))
  assert.equal(status, 206)
  assert.equal(count, 5)
  assert.deepEqual(data, [{ id: 2 }, { id: 3 }])
})
check('single', async () => {
  const { data } = ok(await db.from('items').select('name').eq('id', 2).single())
  assert.deepEqual(data, { name: 'banana' })
})
check('single with no rows is PGRST116', async () => {
  const { error, status } = await db.from('items').select('name').eq('id', 999).single()
  assert.equal(status, 406)
  assert.equal(error.code, 'PGRST116')
})
check('maybeSingle with no rows', async () => {
  const { data, error } = await db.from('items').select('name').eq('id', 999).maybeSingle()
  assert.equal(error, null)
  assert.equal(data, null)
})
check('or, not, is, like, ilike', async () => {
  const { data } = ok(await db.from('items').select('id').or('id.eq.1,name.ilike.*PIE*').not('price', 'is', null).order('id'))
  assert.deepEqual(data, [{ id: 1 }, { id: 3 }])
  const { data: d2 } = ok(await db.from('items').select('id').like('name', '%an%').order('id'))
  assert.deepEqual(d2, [{ id: 2 }])
})
check('contains, overlaps, json path filter, textSearch', async () => {
  const { data } = ok(await db.from('items').select('id').contains('tags', ['red']).order('id'))
  assert.deepEqual(data, [{ id: 1 }, { id: 3 }])
  const { data: d2 } = ok(await db.from('items').select('id').overlaps('tags', ['yellow', 'dessert']).order('id'))
  assert.deepEqual(d2, [{ id: 2 }, { id: 3 }, { id: 5 }])
  const { data: d3 } = ok(await db.from('items').select('id,lang:meta->>lang').eq('meta->>lang', 'fr').order('id'))
  assert.deepEqual(d3, [{ id: 3, lang: 'fr' }, { id: 5, lang: 'fr' }])
  const { data: d4 } = ok(await db.from('items').select('id').textSearch('search', 'cherry', { type: 'websearch', config: 'english' }))
  assert.deepEqual(d4, [{ id: 3 }])
})
check('match and filter', async () => {
  const { data } = ok(await db.from('items').select('id').match({ mood: 'happy', name: 'apple' }))
  assert.deepEqual(data, [{ id: 1 }])
  const { data: d2 } = ok(await db.from('items').select('id').filter('id', 'in', '(4,5)').order('id'))
  assert.deepEqual(d2, [{ id: 4 }, { id: 5 }])
})
check('csv', async () => {
  const { data } = ok(await db.from('items').select('id,name').eq('id', 1).csv())
  assert.equal(data, 'id,name\n1,apple')
})
check('unknown table error', async () => {
  const { error, status } = await db.from('nope').select()
  assert.equal(status, 404)
  assert.equal(error.code, 'PGRST205')
})
check('insert with select', async () => {
  const { data, status } = ok(await db.from('clients').insert({ id: 100, name: 'Postgrest JS' }).select())
  assert.equal(status, 201)
  assert.deepEqual(data, [{ id: 100, name: 'Postgrest JS' }])
})
check('bulk insert with count', async () => {
  const { count, status, data } = ok(await db.from('clients').insert([{ id: 101, name: 'a' }, { id: 102 , name: 'b' }], { count: 'exact' }))
  assert.equal(status, 201)
  assert.equal(count, 2)
  assert.equal(data, null)
})
check('insert conflict error', async () => {
  const { error, status } = await db.from('clients').insert({ id: 100, name: 'dup' })
  assert.equal(status, 409)
  assert.equal(error.code, '23505')
})
check('upsert', async () => {
  const { data, status } = ok(await db.from('clients').upsert([{ id: 100, name: 'renamed' }, { id: 103, name: 'new' }]).select('id,name').order('id'))
  assert.equal(status, 201)
  assert.deepEqual(data, [{ id: 100, name: 'renamed' }, { id: 103, name: 'new' }])
})
check('upsert ignoreDuplicates with onConflict', async () => {
  const { data } = ok(await db.from('clients').upsert({ id: 999, name: 'renamed' }, { onConflict: 'name', ignoreDuplicates: true }).select())
  assert.deepEqual(data, [])
})
check('upsert with defaultToNull false', async () => {
  const { data } = ok(await db.from('tasks').upsert([{ title: 'a' }, { title: 'b', rank: 3 }], { defaultToNull: false }).select('title,rank,done'))
  assert.deepEqual(data, [{ title: 'a', rank: 10, done: false }, { title: 'b', rank: 3, done: false }])
})
check('update', async () => {
  const { data, status } = ok(await db.from('clients').update({ name: 'updated' }).eq('id', 101).select().single())
  assert.equal(status, 200)
  assert.deepEqual(data, { id: 101, name: 'updated' })
})
check('update without select is 204', async () => {
  const { status, data } = ok(await db.from('clients').update({ name: 'x' }).eq('id', 102))
  assert.equal(status, 204)
  assert.equal(data, null)
})
check('delete', async () => {
  const { data, status } = ok(await db.from('clients').delete().in('id', [101, 102]).select('id').order('id'))
  assert.equal(status, 200)
  assert.deepEqual(data, [{ id: 101 }, { id: 102 }])
})
check('delete with count', async () => {
  const { count, status } = ok(await db.from('clients').delete({ count: 'exact' }).eq('id', 103))
  assert.equal(status, 204)
  assert.equal(count, 1)
})
check('rpc post', async () => {
  const { data } = ok(await db.rpc('add', { a: 2, b: 3 }))
  assert.equal(data, 5)
})
check('rpc get', async () => {
  const { data } = ok(await db.rpc('add', { a: 2, b: 5 }, { get: true }))
  assert.equal(data, 7)
})
check('rpc setof with filters', async () => {
  const { data } = ok(await db.rpc('projects_of', { client: 1 }).select('id').gt('id', 1))
  assert.deepEqual(data, [{ id: 2 }])
})
check('rpc head count', async () => {
  const { count, data } = ok(await db.rpc('series', { n: 4 }, { head: true, count: 'exact' }))
  assert.equal(count, 4)
  assert.equal(data, null)
})
check('rpc unknown function', async () => {
  const { error, status } = await db.rpc('nope', {})
  assert.equal(status, 404)
  assert.equal(error.code, 'PGRST202')
})
check('other schema via profile', async () => {
  const { data } = ok(await other.from('widgets').select('label').order('id'))
  assert.deepEqual(data, [{ label: 'gear' }, { label: 'sprocket' }])
})
check('explain', async () => {
  const { data } = ok(await db.from('items').select('id').explain({ format: 'json' }))
  assert.ok(Array.isArray(data) && data[0].Plan, JSON.stringify(data))
})

check('embedding: to-one, to-many, many-to-many, nested, inner, foreign table filters', async () => {
  const { data } = ok(await db.from('books').select('title, author:authors!author_id(name), tags(name), reviews(stars)')
    .eq('id', 1).order('stars', { referencedTable: 'reviews', ascending: false }))
  assert.deepEqual(data, [{ title: 'Earthsea', author: { name: 'Ursula' }, tags: [{ name: 'fantasy' }], reviews: [{ stars: 5 }, { stars: 4 }] }])
  const { data: d2 } = ok(await db.from('authors').select('name, books!books_author_id_fkey!inner(title)')
    .gt('books.year', 1980).order('id').limit(1, { referencedTable: 'books' }))
  assert.deepEqual(d2, [{ name: 'Terry', books: [{ title: 'Good Omens' }] }])
  const { data: d3 } = ok(await db.from('books').select('title, reviews()').is('reviews', null).order('id'))
  assert.deepEqual(d3, [{ title: 'Dispossessed' }, { title: 'Anonymous' }])
})
check('embedding: ambiguity error', async () => {
  const { error, status } = await db.from('books').select('title, authors(name)')
  assert.equal(status, 300)
  assert.equal(error.code, 'PGRST201')
})
check('aggregates', async () => {
  const { data } = ok(await db.from('reviews').select('book_id, stars.avg(), count()').order('book_id').eq('book_id', 1))
  assert.deepEqual(data, [{ book_id: 1, avg: 4.5, count: 2 }])
})
check('insert returning an embed', async () => {
  const { data } = ok(await db.from('books').insert({ id: 20, title: 'JS', author_id: 2 }).select('title, authors!author_id(name)').single())
  assert.deepEqual(data, { title: 'JS', authors: { name: 'Terry' } })
})

let failed = 0
for (const [name, fn] of checks) {
  try {
    await fn()
    console.log(`ok   ${name}`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name}: ${e.message}`)
  }
}
console.log(`${checks.length - failed}/${checks.length} passed`)
process.exit(failed ? 1 : 0)
