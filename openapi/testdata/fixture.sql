-- Fixture for the real-database test: one of every column type the builder maps, comments, a view, functions,
-- and a role with partial privileges.
do $$ begin
  if not exists (select from pg_roles where rolname = 'openapi_anon') then create role openapi_anon nologin; end if;
end $$;

create schema api;
create type api.mood as enum ('sad', 'ok', 'happy');
create type api.pair as (a integer, b text);
create domain api.posint as integer check (value > 0);
comment on schema api is 'The books API';

create table api.authors (
  id integer generated always as identity primary key,
  name text not null
);
comment on table api.authors is 'Book authors';

create table api.books (
  id bigserial primary key,
  title varchar(100) not null,
  code char(4),
  author_id integer not null references api.authors (id),
  pages api.posint,
  small smallint,
  price numeric(8,2),
  weight real,
  rating double precision,
  published boolean not null default false,
  uid uuid not null default gen_random_uuid(),
  released date,
  created_at timestamptz not null default now(),
  updated_at timestamp,
  opens time,
  loan interval,
  meta jsonb,
  raw json,
  cover bytea,
  tags text[] not null,
  mood api.mood,
  moods api.mood[],
  pair api.pair,
  search tsvector generated always as (to_tsvector('simple', title)) stored
);
comment on table api.books is 'Books
Every book we sell.';
comment on column api.books.title is 'The title';

create view api.book_titles as select id, title from api.books;
create view api.book_counts as select author_id, count(*) as n from api.books group by author_id;

create function api.search_books(query text, max integer default 10) returns setof api.books
  language sql stable as $$ select * from api.books where title ilike '%' || query || '%' limit max $$;
comment on function api.search_books is 'Search books by title';
create function api.add(a integer, b integer) returns integer language sql immutable as $$ select a + b $$;
create function api.reset() returns void language sql as $$ select $$;
create function api.first_author() returns api.authors language sql stable as $$ select * from api.authors limit 1 $$;

grant usage on schema api to openapi_anon;
grant select on api.books, api.authors to openapi_anon;
grant insert (title, author_id, tags) on api.books to openapi_anon;
revoke execute on all functions in schema api from public;
grant execute on function api.add(integer, integer) to openapi_anon;
