// Package storetest is the conformance suite every Sety adapter must pass:
// the definition of a correct adapter. An adapter's test is a few lines in
// its own package:
//
//	func newStores(tb testing.TB) storetest.Stores { return myadapter.Open(tb) }
//
//	func TestConformance(t *testing.T) { storetest.Run(t, newStores, storetest.Features{}) }
//
// [Run] runs every domain as a subtest; [TestAuth], [TestIncidents],
// [TestOutbox], [TestDispatch], [TestWebhooks] and [TestAccess] run one
// domain alone, for an adapter that is being written. The adapter's stores
// are [Stores]: ports.Stores and the outbox reader the suite checks events
// with.
//
// [Features] says what an adapter can do beyond what every adapter must;
// the zero value claims nothing more. An adapter that can be opened twice
// over one database (SQLite, PostgreSQL) sets Features.Reopen, and each
// domain then also checks that several instances sharing the database
// behave as one: idempotency, serialized updates, responder claims, the
// access code key and code uses, fan-out and delivery leases across
// handles, the purge of ended sessions, and a key revoked through one
// handle while the other starts sessions of it. See
// adapters/sqlite/sqlite_test.go.
//
// Beside the suite: benchmarks every adapter runs (BenchmarkNearestAvailable,
// BenchmarkPurgeSessions, BenchmarkAuthenticateSession, ...), and fixtures
// for an adapter's upgrade tests (LegacySessionKeys and
// CheckLegacySessionKeys: sessions of a release that did not record their
// key).
//
// Each test gets fresh, empty stores from the constructor (with two
// organizations added) and may run in parallel with the others. Errors are
// checked by kind only (setyerr), and values must round-trip exactly: what
// a store returns equals what it was given, and changing a returned value
// never changes what is stored.
package storetest
