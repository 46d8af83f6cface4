package schemacache_test

import (
	"strings"
	"testing"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

// TestRelationshipKeys: every key RelationshipKeys publishes selects its relationship alone through
// FindRelationships, the target's name is used whenever it does, and FKOnSource marks the side holding the key.
func TestRelationshipKeys(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t, fixture)
	c := load(t, db.URL, "api", "private")
	published, names := 0, 0
	for q := range c.Relations {
		keys := c.RelationshipKeys(q, q.Schema)
		for _, r := range c.RelationshipsFrom(q) {
			switch r.Cardinality {
			case schemacache.ManyToOne:
				if !r.FKOnSource {
					t.Errorf("%s → %s %s: M2O without FKOnSource", q, r.Target, r.Constraint)
				}
			case schemacache.OneToMany, schemacache.ManyToMany:
				if r.FKOnSource {
					t.Errorf("%s → %s %s: %v with FKOnSource", q, r.Target, r.Constraint, r.Cardinality)
				}
			}
			key, ok := keys[r]
			alone := c.FindRelationships(q, q.Schema, r.Target.Name, "")
			if r.Computed == nil && r.Target.Schema == q.Schema && len(alone) == 1 && alone[0] == r && key != r.Target.Name {
				t.Errorf("%s → %s %s: key %q, want the target's name", q, r.Target, r.Constraint, key)
			}
			if !ok {
				continue
			}
			published++
			name, hint, hinted := strings.Cut(key, "!")
			if !hinted {
				names++
			}
			found := c.FindRelationships(q, q.Schema, name, hint)
			if len(found) != 1 || found[0] != r {
				t.Errorf("%s: key %q selects %d relationships, not %s → %s %s", q, key, len(found), q, r.Target, r.Constraint)
			}
		}
	}
	if published == 0 || names == 0 || names == published {
		t.Errorf("%d keys published, %d of them names alone: the fixture should have both kinds", published, names)
	}
}
