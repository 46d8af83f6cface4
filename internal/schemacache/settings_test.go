package schemacache_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

// settingsRoles are this file's own roles (roles and ALTER ROLE … SET are cluster-wide: nothing else uses these):
// an authenticator, a role it may switch to, and one it may not.
const settingsRoles = `
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'schemacache_auth') THEN CREATE ROLE schemacache_auth NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'schemacache_anon') THEN CREATE ROLE schemacache_anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'schemacache_stranger') THEN CREATE ROLE schemacache_stranger NOLOGIN; END IF;
END$$;
GRANT schemacache_anon TO schemacache_auth;
ALTER ROLE schemacache_anon SET work_mem = '8MB';
ALTER ROLE schemacache_anon SET statement_timeout = '1s';
ALTER ROLE schemacache_anon SET log_min_duration_statement = '1234';
ALTER ROLE schemacache_stranger SET work_mem = '1MB';
ALTER ROLE schemacache_auth SET pgrst.db_max_rows = '5';
ALTER ROLE schemacache_auth SET pgrst.server_timing_enabled = 'true';
`

// asRole connects to url in each pgx query exec mode pgway uses (default, exec as the server's pool, simple
// protocol) and switches the session to role ("": stay the superuser).
func asRole(t *testing.T, url, role string) map[string]*pgx.Conn {
	t.Helper()
	conns := map[string]*pgx.Conn{}
	for name, param := range map[string]string{"default": "", "exec": "&default_query_exec_mode=exec",
		"simple protocol": "&default_query_exec_mode=simple_protocol"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := pgx.Connect(ctx, url+param)
		if err == nil && role != "" {
			_, err = conn.Exec(ctx, "SET ROLE "+role)
		}
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		conns[name] = conn
	}
	return conns
}

// TestLoadRoleSettings: the settings of the roles the authenticator may switch to, without those it may not set
// (log_min_duration_statement is superuser-only until GRANT SET ON PARAMETER) or of roles it is no member of.
func TestLoadRoleSettings(t *testing.T) {
	db := pgtest.NewDatabase(t, settingsRoles)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := schemacache.RoleSettings{"schemacache_anon": {{"statement_timeout", "1s"}, {"work_mem", "8MB"}}}
	for name, conn := range asRole(t, db.URL, "schemacache_auth") {
		got, err := schemacache.LoadRoleSettings(ctx, conn)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}

	db.Exec(t, "GRANT SET ON PARAMETER log_min_duration_statement TO schemacache_auth")
	t.Cleanup(func() { db.Exec(t, "REVOKE SET ON PARAMETER log_min_duration_statement FROM schemacache_auth") })
	want["schemacache_anon"] = [][2]string{{"log_min_duration_statement", "1234"}, {"statement_timeout", "1s"}, {"work_mem", "8MB"}}
	got, err := schemacache.LoadRoleSettings(ctx, asRole(t, db.URL, "schemacache_auth")["default"])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with SET granted: %v, want %v", got, want)
	}
}

// TestLoadDBSettings: the authenticator's pgrst.* settings, those for this database over those for all, and
// both over the db-pre-config function's; other settings and keys not asked for are left out.
func TestLoadDBSettings(t *testing.T) {
	db := pgtest.NewDatabase(t, settingsRoles, `
CREATE SCHEMA "pre conf";
GRANT USAGE ON SCHEMA "pre conf" TO schemacache_auth;
CREATE FUNCTION "pre conf".pre() RETURNS void LANGUAGE sql AS $$
  SELECT set_config('pgrst.db_schemas', 'from_function', true), set_config('pgrst.jwt_aud', 'audience', true),
         set_config('pgrst.db_anon_role', 'not_asked', true);
$$;`)
	db.Exec(t, `ALTER ROLE schemacache_auth IN DATABASE `+db.Name+` SET pgrst.db_max_rows = '7';
		ALTER ROLE schemacache_auth IN DATABASE `+db.Name+` SET pgrst.db_schemas = 'api, other';
		ALTER ROLE schemacache_auth IN DATABASE `+db.Name+` SET work_mem = '2MB'`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := []string{"db-schemas", "db-max-rows", "jwt-aud", "server-timing-enabled"}
	for name, conn := range asRole(t, db.URL, "schemacache_auth") {
		got, err := schemacache.LoadDBSettings(ctx, conn, "", keys)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := [][2]string{{"db_max_rows", "7"}, {"db_schemas", "api, other"}, {"server_timing_enabled", "true"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		got, err = schemacache.LoadDBSettings(ctx, conn, `"pre conf"."pre"`, keys)
		if err != nil {
			t.Fatalf("%s, with db-pre-config: %v", name, err)
		}
		want = [][2]string{{"db_max_rows", "7"}, {"db_schemas", "api, other"}, {"jwt_aud", "audience"},
			{"server_timing_enabled", "true"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s, with db-pre-config: %v, want %v", name, got, want)
		}
	}
	// Without role settings, the function's values stand.
	conn := asRole(t, db.URL, "schemacache_stranger")["default"]
	db.Exec(t, `GRANT USAGE ON SCHEMA "pre conf" TO schemacache_stranger`)
	got, err := schemacache.LoadDBSettings(ctx, conn, `"pre conf"."pre"`, keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]string{{"db_schemas", "from_function"}, {"jwt_aud", "audience"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("the function alone: %v, want %v", got, want)
	}
	if _, err := schemacache.LoadDBSettings(ctx, conn, `"pre conf"."missing"`, keys); err == nil {
		t.Error("a missing db-pre-config function is not an error")
	}
}

// TestLoadPrivileges: what a role may do, directly or through PUBLIC, in the schemas asked for; nothing in a
// schema it has no USAGE on.
func TestLoadPrivileges(t *testing.T) {
	db := pgtest.NewDatabase(t, settingsRoles, `
CREATE SCHEMA api;
CREATE SCHEMA hidden;
CREATE TABLE api.books (id int PRIMARY KEY, title text);
CREATE TABLE api.secrets (id int);
CREATE VIEW api.titles AS SELECT title FROM api.books;
CREATE TABLE hidden.things (id int);
CREATE FUNCTION api.add(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE FUNCTION api.private() RETURNS int LANGUAGE sql AS 'SELECT 1';
REVOKE EXECUTE ON FUNCTION api.private() FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO schemacache_anon;
GRANT SELECT ON api.books, api.titles TO schemacache_anon;
GRANT INSERT (title) ON api.books TO schemacache_anon;
GRANT SELECT ON hidden.things TO schemacache_anon;`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, conn := range asRole(t, db.URL, "") {
		got, err := schemacache.LoadPrivileges(ctx, conn, "schemacache_anon", []string{"api", "hidden"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		books, titles := schemacache.QName{Schema: "api", Name: "books"}, schemacache.QName{Schema: "api", Name: "titles"}
		want := schemacache.Privileges{
			{Object: books, Priv: schemacache.PrivSelect}: true, {Object: books, Priv: schemacache.PrivInsert}: true,
			{Object: titles, Priv: schemacache.PrivSelect}:                                         true,
			{Object: schemacache.QName{Schema: "api", Name: "add"}, Priv: schemacache.PrivExecute}: true,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		if got.RelationVisible(schemacache.QName{Schema: "api", Name: "secrets"}) || !got.RoutineVisible(schemacache.QName{Schema: "api", Name: "add"}) {
			t.Errorf("%s: visibility wrong", name)
		}
	}
}
