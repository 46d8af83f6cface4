package schemacache_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgway/pgway/internal/pgtest"
	"github.com/pgway/pgway/internal/schemacache"
)

// bigSchema has n tables, each referencing the previous one, a view over each and a view over that view.
func bigSchema(n int) string {
	var b strings.Builder
	b.WriteString("create schema big;\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "create table big.t%d (id int primary key, name varchar(20) not null, prev_id int", i)
		if i > 0 {
			fmt.Fprintf(&b, " references big.t%d (id)", i-1)
		}
		b.WriteString(", note text, at timestamptz default now());\n")
		fmt.Fprintf(&b, "create view big.v%d as select id, name as label, prev_id from big.t%d;\n", i, i)
		fmt.Fprintf(&b, "create view big.w%d as select id as key, prev_id from big.v%d;\n", i, i)
		fmt.Fprintf(&b, "create function big.f%d(a int, b text default '') returns setof big.t%d language sql as 'select * from big.t%d';\n", i, i, i)
	}
	return b.String()
}

func BenchmarkLoad(b *testing.B) {
	db := pgtest.NewDatabase(b, bigSchema(300))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var c *schemacache.Cache
	for b.Loop() {
		if c, err = schemacache.Load(ctx, conn, []string{"big"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(c.Relations)), "relations")
	n := 0
	for _, rs := range c.Relationships {
		n += len(rs)
	}
	b.ReportMetric(float64(n), "relationships")
}
