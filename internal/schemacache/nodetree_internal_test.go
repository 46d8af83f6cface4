package schemacache

import (
	"maps"
	"testing"
)

// Internal test: the node-tree parser is unexported, and its input normally only comes from PostgreSQL.
func TestViewColumnOrigins(t *testing.T) {
	tests := []struct {
		name string
		tree string
		want map[int]colRef
	}{
		{"plain and computed columns",
			`({QUERY :commandType 1 :querySource 0 :canSetTag true :utilityStmt <> :resultRelation 0 :hasAggs false ` +
				`:rtable ({RANGETBLENTRY :alias {ALIAS :aliasname old :colnames <>} :rtekind 0 :relid 16390}) ` +
				`:targetList ({TARGETENTRY :expr {VAR :varno 1 :varattno 1 :vartype 23 :location 7} :resno 1 ` +
				`:resname id :ressortgroupref 0 :resorigtbl 16390 :resorigcol 1 :resjunk false} ` +
				`{TARGETENTRY :expr {FUNCEXPR :funcid 871 :args ({VAR :varno 1 :varattno 2}) :location 11} :resno 2 ` +
				`:resname upper :ressortgroupref 0 :resorigtbl 0 :resorigcol 0 :resjunk false} ` +
				`{TARGETENTRY :expr {CONST :consttype 23 :constlen 4 :constbyval true :constisnull false :location 30 ` +
				`:constvalue 4 [ 1 0 0 0 0 0 0 0 ]} :resno 3 :resname one :ressortgroupref 0 :resorigtbl 0 ` +
				`:resorigcol 0 :resjunk false}) :override 0})`,
			map[int]colRef{1: {16390, 1}}},
		{"escaped names, a name starting with a colon, junk entries",
			`({QUERY :targetList ({TARGETENTRY :expr {VAR :varno 1} :resno 1 :resname my\ id\ \{x\}\(y\) ` +
				`:ressortgroupref 0 :resorigtbl 7 :resorigcol 2 :resjunk false} ` +
				`{TARGETENTRY :expr {VAR :varno 1} :resno 2 :resname :t :ressortgroupref 0 :resorigtbl 7 ` +
				`:resorigcol 3 :resjunk false} ` +
				`{TARGETENTRY :expr {VAR :varno 1} :resno 3 :resname <> :ressortgroupref 1 :resorigtbl 7 ` +
				`:resorigcol 4 :resjunk true}) :setOperations <>})`,
			map[int]colRef{1: {7, 2}, 2: {7, 3}}},
		{"empty target list", `({QUERY :targetList <>})`, map[int]colRef{}},
	}
	for _, tt := range tests {
		got, err := viewColumnOrigins(tt.tree)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"", "(", "({QUERY :targetList (", "({QUERY :targetList ({TARGETENTRY :resno x})})"} {
		if _, err := viewColumnOrigins(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func FuzzViewColumnOrigins(f *testing.F) {
	f.Add(`({QUERY :targetList ({TARGETENTRY :resno 1 :resname a :resorigtbl 1 :resorigcol 1 :resjunk false})})`)
	f.Add(`({QUERY :targetList <>})`)
	f.Fuzz(func(t *testing.T, tree string) {
		_, _ = viewColumnOrigins(tree) // must not panic or loop
	})
}
