package dbexec

import "strings"

// Isolation is the isolation level a request's transaction begins with. The zero value keeps the implicit
// transaction of one pipeline (the session's default level, no extra statements); the others begin the
// exchange with BEGIN ISOLATION LEVEL … and end it with COMMIT, in the same round trip. PostgREST begins every
// transaction with an explicit level: READ COMMITTED unless the impersonated role or the called function sets
// default_transaction_isolation (MainTx.hs planIsoLvl); pgway pays for the explicit transaction only then.
type Isolation uint8

// Isolation levels (PostgreSQL runs READ UNCOMMITTED as READ COMMITTED, and PostgREST maps it so).
const (
	IsolationDefault Isolation = iota
	IsolationReadCommitted
	IsolationRepeatableRead
	IsolationSerializable
)

// ParseIsolation reads a default_transaction_isolation setting's value as PostgREST's toIsolationLevel does:
// "serializable" and "repeatable read" (any case), anything else READ COMMITTED. A list value ("serializable,
// …", as pg_proc.proconfig may hold) counts by its first item, as PostgREST's schema cache query reads it.
func ParseIsolation(v string) Isolation {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	switch {
	case strings.EqualFold(v, "serializable"):
		return IsolationSerializable
	case strings.EqualFold(v, "repeatable read"):
		return IsolationRepeatableRead
	}
	return IsolationReadCommitted
}

// IsolationSetting is the setting that names a role's or a function's isolation level. It is applied as the
// level the transaction begins with, never with set_config (which could not change the level of a transaction
// that has run a query: 25001). PostgreSQL refuses transaction_isolation itself on ALTER ROLE … SET and
// CREATE FUNCTION … SET (25001), so this is the only one.
const IsolationSetting = "default_transaction_isolation"

// String is the level as SQL names it ("" for IsolationDefault).
func (l Isolation) String() string {
	switch l {
	case IsolationReadCommitted:
		return "read committed"
	case IsolationRepeatableRead:
		return "repeatable read"
	case IsolationSerializable:
		return "serializable"
	}
	return ""
}

// beginSQL are the statements that begin an explicit transaction, by level and read-only mode (PostgREST's
// hasql-transaction: BEGIN ISOLATION LEVEL … READ ONLY | READ WRITE). Only these constants are ever sent.
var beginSQL = [...][2]string{
	IsolationReadCommitted:  {"BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE", "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"},
	IsolationRepeatableRead: {"BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"},
	IsolationSerializable:   {"BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"},
}

// commitSQL ends an explicit transaction at the end of its exchange.
const commitSQL = "COMMIT"

// begin is the statement that begins tx's explicit transaction ("" for the implicit one).
func (t *Tx) begin() string {
	if t.Isolation == IsolationDefault || int(t.Isolation) >= len(beginSQL) {
		return ""
	}
	ro := 0
	if t.ReadOnly {
		ro = 1
	}
	return beginSQL[t.Isolation][ro]
}
