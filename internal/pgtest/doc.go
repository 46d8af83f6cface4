// Package pgtest runs a throwaway PostgreSQL for tests and gives each test a fresh database.
//
// A package's tests call Main from TestMain and NewDatabase in each test. The server is initialised in a
// temporary directory with durability turned off, started on a free loopback port the first time a test needs
// it, and removed after the tests; with PGWAY_TEST_DATABASE_URL set, an existing server is used instead.
// StartServer, in a file that does not import testing, serves the benchmark and the demo. StartReplica adds a
// streaming replica of the test server (pg_basebackup -R) and StartPgBouncer puts PgBouncer in front of it.
package pgtest
