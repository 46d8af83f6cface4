package sidecar_test

import (
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pgway/pgway/internal/pgtest"
)

// TestManyInstances: three pgway instances serve one database. A schema change announced with NOTIFY pgrst
// reaches every one of them (each LISTENs on the primary), and all three serve the new column within 2 s; a JWT
// is accepted by each (nothing is shared between them but the database).
func TestManyInstances(t *testing.T) {
	db := pgtest.NewDatabase(t, fixture(t))
	var servers []*testServer
	for range 3 {
		servers = append(servers, startOn(t, db, nil))
	}
	for i, ts := range servers {
		if res := ts.get("/items?select=id,colour&id=eq.1"); res.Status != 400 {
			t.Fatalf("instance %d knows colour before it exists: %d %s", i, res.Status, res.Body)
		}
	}
	start := time.Now()
	db.Exec(t, "ALTER TABLE api.items ADD COLUMN colour text DEFAULT 'green'; NOTIFY pgrst, 'reload schema'")
	var wg sync.WaitGroup
	took := make([]time.Duration, len(servers))
	for i, ts := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < 10*time.Second {
				if res := ts.get("/items?select=id,colour&id=eq.1"); res.Status == 200 && res.Body == `[{"id":1,"colour":"green"}]` {
					took[i] = time.Since(start)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for i, d := range took {
		if d == 0 || d > 2*time.Second {
			t.Errorf("instance %d served the new column after %v (0: never), want within 2 s", i, d)
		}
	}
	t.Logf("the new column was served after %v", took)

	tok := token(t, jwt.MapClaims{"role": "web_user", "sub": "alice"})
	for i, ts := range servers {
		if res := ts.get("/notes?select=id&order=id", "Authorization: Bearer "+tok); res.Status != 200 || res.Body != `[{"id":1},{"id":3}]` {
			t.Errorf("instance %d: %d %s", i, res.Status, res.Body)
		}
	}
}
