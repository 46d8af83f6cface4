-- PostgREST's "Tutorial 1 - The Golden Key", step 1 (docs/tutorials/tut1.rst), as the tutorial gives it.

-- run this in psql using the database created
-- in the previous tutorial

create role todo_user nologin;
grant todo_user to authenticator;

grant usage on schema api to todo_user;
grant all on api.todos to todo_user;
