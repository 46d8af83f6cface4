package schemacache

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// roleSettingsSQL is PostgREST's impersonated role settings query: the settings (ALTER ROLE … SET) of every role
// the current user may switch to, limited to those it may set (user context, or GRANT SET ON PARAMETER).
const roleSettingsSQL = `
WITH role_setting AS (
  SELECT r.rolname, unnest(r.rolconfig) AS setting
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
  WHERE m.member = current_user::regrole::oid
), kv AS (
  SELECT rolname, substr(setting, 1, strpos(setting, '=') - 1) AS k, substr(setting, strpos(setting, '=') + 1) AS v
  FROM role_setting
)
SELECT kv.rolname::text, kv.k, kv.v
FROM kv JOIN pg_settings ps ON ps.name = kv.k
WHERE ps.context = 'user' OR (current_setting('server_version_num')::int >= 150000
  AND has_parameter_privilege(current_user::regrole::oid, ps.name, 'SET'))
ORDER BY 1, 2`

// RoleSettings maps a role to its settings (name, value), applied in the transactions of its requests.
type RoleSettings map[string][][2]string

// LoadRoleSettings reads the settings (ALTER ROLE … SET) of every role the current user (the authenticator) is
// a member of, keeping those it may set: user-context parameters, and from PostgreSQL 15 those granted with
// GRANT SET ON PARAMETER. Each role's settings are sorted by name.
func LoadRoleSettings(ctx context.Context, conn Querier) (RoleSettings, error) {
	var b pgx.Batch
	b.Queue(roleSettingsSQL)
	br := conn.SendBatch(ctx, &b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("loading role settings: %w", err)
	}
	out := RoleSettings{}
	var role, k, v string
	_, err = pgx.ForEachRow(rows, []any{&role, &k, &v}, func() error {
		out[role] = append(out[role], [2]string{k, v})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading role settings: %w", err)
	}
	return out, nil
}

// dbSettingsSQL is PostgREST's in-database configuration query: the current user's pgrst.* role settings, those
// for the current database winning over those for all databases, and those over what the db-pre-config
// function sets (%s: its UNION, or nothing).
const dbSettingsSQL = `WITH role_setting AS (
  SELECT setdatabase AS database, unnest(setconfig) AS setting FROM pg_catalog.pg_db_role_setting
  WHERE setrole = current_user::regrole::oid
    AND setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_catalog))
), kv AS (
  SELECT database, substr(setting, 1, strpos(setting, '=') - 1) AS k, substr(setting, strpos(setting, '=') + 1) AS v
  FROM role_setting WHERE setting LIKE 'pgrst.%%'%s
)
SELECT DISTINCT ON (key) replace(k, 'pgrst.', '') AS key, v AS value FROM kv WHERE v IS NOT NULL
ORDER BY key, database DESC NULLS LAST`

// LoadDBSettings reads PostgREST's in-database configuration (db-config): the pgrst.* settings of the current
// user (the authenticator) — ALTER ROLE … IN DATABASE beating ALTER ROLE … SET — over those the db-pre-config
// function preConfig sets with set_config. preConfig is a qualified name already quoted for SQL
// ("conf"."pre_config"), or "" for none; keys are the configuration keys ("db-schemas") to ask it for
// (pgrst.db_schemas). Each pair is (key without "pgrst.", with underscores, value), sorted by key.
func LoadDBSettings(ctx context.Context, conn Querier, preConfig string, keys []string) ([][2]string, error) {
	var b pgx.Batch
	if preConfig == "" {
		b.Queue(fmt.Sprintf(dbSettingsSQL, ""))
	} else {
		names := make([]string, 0, len(keys))
		for _, k := range keys {
			names = append(names, "pgrst."+strings.ReplaceAll(k, "-", "_"))
		}
		union := "\n  UNION SELECT NULL::oid, x, current_setting(x, true) FROM unnest($1::text[]) x JOIN " + preConfig + "() _ ON TRUE"
		b.Queue(fmt.Sprintf(dbSettingsSQL, union), textArray(names))
	}
	br := conn.SendBatch(ctx, &b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("reading in-database configuration: %w", err)
	}
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var kv [2]string
		return kv, r.Scan(&kv[0], &kv[1])
	})
	if err != nil {
		return nil, fmt.Errorf("reading in-database configuration: %w", err)
	}
	return pairs, nil
}
