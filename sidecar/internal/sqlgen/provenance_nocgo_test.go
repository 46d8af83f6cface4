//go:build !cgo

package sqlgen_test

import (
	"testing"

	"github.com/pgway/pgway/sidecar/internal/sqlgen"
)

// checkProvenance needs libpg_query (cgo); without a C compiler only PostgreSQL's EXPLAIN checks statements.
func checkProvenance(t *testing.T, _ *fixtureDB, _ sqlgen.Statement) { t.Helper() }
