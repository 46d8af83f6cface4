package sidecar

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// roleSettingsSQL is PostgREST's impersonated role settings query: the settings (ALTER ROLE … SET) of every role
// the authenticator may switch to, limited to those it may set (user context, or GRANT SET ON PARAMETER).
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

// roleSettings maps a role to the settings applied in its requests' transactions.
type roleSettings map[string][][2]string

// loadRoleSettings reads the impersonated roles' settings.
func loadRoleSettings(ctx context.Context, conn *pgxpool.Conn) (roleSettings, error) {
	rows, err := conn.Query(ctx, roleSettingsSQL)
	if err != nil {
		return nil, fmt.Errorf("loading role settings: %w", err)
	}
	out := roleSettings{}
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
