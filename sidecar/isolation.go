package sidecar

import (
	"github.com/pgway/pgway/internal/schemacache"
	"github.com/pgway/pgway/sidecar/internal/dbexec"
	"github.com/pgway/pgway/sidecar/internal/plan"
)

// splitIsolation takes the isolation level out of the impersonated roles' settings (ALTER ROLE … SET
// default_transaction_isolation), as PostgREST's queryRoleSettings does: it is the level their requests'
// transactions begin with, not a setting applied with set_config. Every role of rs keeps its entry (a role whose
// only setting was the level keeps an empty one).
func splitIsolation(rs schemacache.RoleSettings) (schemacache.RoleSettings, map[string]dbexec.Isolation) {
	out := make(schemacache.RoleSettings, len(rs))
	var levels map[string]dbexec.Isolation
	for role, sets := range rs {
		kept := sets[:0:0]
		for _, kv := range sets {
			if kv[0] != dbexec.IsolationSetting {
				kept = append(kept, kv)
				continue
			}
			if levels == nil {
				levels = map[string]dbexec.Isolation{}
			}
			levels[role] = dbexec.ParseIsolation(kv[1])
		}
		out[role] = kept
	}
	return out, levels
}

// isolation is the level a request's transaction begins with: the called function's own, else its role's
// (PostgREST's planIsoLvl); IsolationDefault keeps the implicit transaction.
func (h *handling) isolation(a *plan.Action) dbexec.Isolation {
	if a.Call != nil && a.Call.Isolation != "" {
		return dbexec.ParseIsolation(a.Call.Isolation)
	}
	return h.snap.roleIsolation[h.who.Role]
}
