package schemacache_test

import (
	"fmt"
	"testing"

	"github.com/pgway/pgway/internal/schemacache"
)

// hintCache is a schema cache built by hand: api.orders and api.order_items (visible), api.orders_audit and
// a long-named table (hidden), functions place_order (visible) and purge_orders (hidden), relationships from
// orders to order_items and orders_audit.
func hintCache() *schemacache.Cache {
	q := func(n string) schemacache.QName { return schemacache.QName{Schema: "api", Name: n} }
	rels := map[schemacache.QName]*schemacache.Relation{}
	for _, n := range []string{"orders", "order_items", "orders_audit", "ledger_entries_for_the_audit_team"} {
		rels[q(n)] = &schemacache.Relation{Schema: "api", Name: n}
	}
	return &schemacache.Cache{
		Schemas:   []string{"api"},
		Relations: rels,
		Routines: map[schemacache.QName][]*schemacache.Routine{
			q("place_order"):  {{Schema: "api", Name: "place_order"}},
			q("purge_orders"): {{Schema: "api", Name: "purge_orders"}},
		},
		Relationships: map[schemacache.QName][]*schemacache.Relationship{
			q("orders"): {
				{Source: q("orders"), Target: q("order_items"), Cardinality: schemacache.OneToMany},
				{Source: q("orders"), Target: q("orders_audit"), Cardinality: schemacache.OneToMany},
			},
		},
	}
}

func TestHintVisibility(t *testing.T) {
	q := func(n string) schemacache.QName { return schemacache.QName{Schema: "api", Name: n} }
	all := hintCache()
	anon := all.WithVisibility(schemacache.Privileges{
		{Object: q("orders"), Priv: schemacache.PrivSelect}:       true,
		{Object: q("order_items"), Priv: schemacache.PrivInsert}:  true,
		{Object: q("place_order"), Priv: schemacache.PrivExecute}: true,
	})
	tests := []struct {
		name  string
		cache *schemacache.Cache
		kind  string // relation, routine, target
		ask   string
		want  string // "" = no hint
	}{
		{"visible relation", anon, "relation", "order", "orders"},
		{"relation visible through INSERT only", anon, "relation", "order_item", "order_items"},
		{"hidden relation", anon, "relation", "orders_audi", ""},
		{"hidden relation without a filter", all, "relation", "orders_audi", "orders_audit"},
		{"a hidden candidate does not shadow a visible one", anon, "relation", "orders_a", "orders"},
		{"three edits", all, "relation", "ledger_entries_for_the_audit_txx", "ledger_entries_for_the_audit_team"},
		{"four edits", all, "relation", "ledger_entries_for_the_audit_xxxx", "ledger_entries_for_the_audit_team"},
		{"eight edits at 0.76 similarity", all, "relation", "ledger_entries_for_the_auxxxxxxxx", "ledger_entries_for_the_audit_team"},
		{"nine edits at 0.73 similarity", all, "relation", "ledger_entries_for_the_axxxxxxxxx", ""},
		{"short names keep the similarity rule", all, "relation", "ord", ""},
		{"visible routine", anon, "routine", "place_ordr", "place_order"},
		{"hidden routine", anon, "routine", "purge_order", ""},
		{"hidden routine without a filter", all, "routine", "purge_order", "purge_orders"},
		{"visible target", anon, "target", "order_item", "order_items"},
		{"hidden target: the closest visible one", anon, "target", "orders_audi", "order_items"},
		{"hidden target without a filter", all, "target", "orders_audi", "orders_audit"},
		{"target that exists gives no hint", all, "target", "orders_audit", ""},
		{"target at 0.58 similarity", all, "target", "order_items_archive", "order_items"},
		{"target below 0.33 similarity", all, "target", "invoices_archive", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var ok bool
			switch tc.kind {
			case "relation":
				var r schemacache.QName
				r, ok = tc.cache.ClosestRelation("api", tc.ask)
				got = r.Name
			case "routine":
				var r schemacache.QName
				r, ok = tc.cache.ClosestRoutine("api", tc.ask)
				got = r.Name
			case "target":
				got, ok = tc.cache.ClosestTarget(q("orders"), tc.ask)
			}
			if ok != (tc.want != "") || ok && got != tc.want {
				t.Fatalf("%s %q: got %q, %v; want %q", tc.kind, tc.ask, got, ok, tc.want)
			}
		})
	}
	// The view leaves the snapshot as it was.
	if !all.RelationVisible(q("orders_audit")) || anon.RelationVisible(q("orders_audit")) || !anon.RoutineVisible(q("place_order")) {
		t.Fatal("WithVisibility changed the snapshot or ignored its filter")
	}
}

// TestHintLargeSchema: as PostgREST, a schema of 500 relations or more gets no relation hint, however close.
func TestHintLargeSchema(t *testing.T) {
	rels := map[schemacache.QName]*schemacache.Relation{}
	for i := range 500 {
		n := fmt.Sprintf("table_%03d", i)
		rels[schemacache.QName{Schema: "big", Name: n}] = &schemacache.Relation{Schema: "big", Name: n}
	}
	c := &schemacache.Cache{Schemas: []string{"big"}, Relations: rels}
	if r, ok := c.ClosestRelation("big", "table_00"); ok {
		t.Fatalf("500 relations: hint %q", r.Name)
	}
	delete(rels, schemacache.QName{Schema: "big", Name: "table_499"})
	if r, ok := c.ClosestRelation("big", "table_00"); !ok || r.Name != "table_000" {
		t.Fatalf("499 relations: hint %q, %v; want table_000", r.Name, ok)
	}
}
