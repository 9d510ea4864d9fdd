package sety_test

import (
	"context"
	"os"
	"testing"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/internal/pgtest"
)

// TestMain starts PostgreSQL for the tests that need it (once, and only if
// one does): see internal/pgtest.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, postgres.Migrate)) }

// openPostgres opens a fresh PostgreSQL database, closed when t ends.
func openPostgres(t testing.TB) *postgres.DB {
	db, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newPostgresHarness is the harness over a fresh PostgreSQL database.
func newPostgresHarness(t testing.TB) *harness { return newHarness(t, openPostgres(t)) }

// TestHTTPOnPostgres runs the HTTP tests that exercise storage on
// PostgreSQL: the API over it answers as it does over SQLite and memory.
// (Tests of input validation, routing and the OpenAPI document never reach
// the store and run once, on memory.)
func TestHTTPOnPostgres(t *testing.T) {
	t.Parallel()
	for name, test := range map[string]func(*testing.T, *harness){
		"AccessOverHTTP":                            testAccessOverHTTP,
		"SpentCodeDoesNotLockTheGate":               testSpentCodeDoesNotLockTheGate,
		"Authentication":                            testAuthentication,
		"ScopesPerOperation":                        testScopesPerOperation,
		"SuspendedOrganizationGets402":              testSuspendedOrganizationGets402,
		"KeysCannotEscalate":                        testKeysCannotEscalate,
		"OperationsConsoleDispatchesAndReports":     testOperationsConsoleDispatchesAndReports,
		"DrillReachesResolvedOverHTTP":              testDrillReachesResolvedOverHTTP,
		"IncidentAnalyticsOverHTTP":                 testIncidentAnalyticsOverHTTP,
		"CreateIncidentMatchesTheContract":          testCreateIncidentMatchesTheContract,
		"IdempotentReplay":                          testIdempotentReplay,
		"ConcurrentDuplicateCreatesMakeOneIncident": testConcurrentDuplicateCreatesMakeOneIncident,
		"Drills":                     testDrills,
		"GetIncidentIsolation":       testGetIncidentIsolation,
		"ListIncidents":              testListIncidents,
		"CancelIncident":             testCancelIncident,
		"AddNote":                    testAddNote,
		"ChangesWriteOutboxEvents":   testChangesWriteOutboxEvents,
		"CancelReasonCode":           testCancelReasonCode,
		"APIKeyManagement":           testAPIKeyManagement,
		"ThreatIntelligenceOverHTTP": testThreatIntelligenceOverHTTP,
		"WebhookEndpointsOverHTTP":   testWebhookEndpointsOverHTTP,
		"HostileQueryStrings":        testHostileQueryStrings,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newPostgresHarness(t))
		})
	}
}

// The threat engine follows the event log on PostgreSQL as on memory.
func TestThreatFollowsEventsOnPostgres(t *testing.T) {
	t.Parallel()
	testThreatFollowsEvents(t, openPostgres(t))
}

// Instances over one PostgreSQL database share the threat picture, and a
// restarted one rebuilds it from the store.
func TestThreatIsSharedOnPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	testThreatIsShared(t, func() sety.Stores {
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// The live event stream follows the outbox by position on PostgreSQL too,
// and resumes from the store after a reconnect without a gap or a repeat.
func TestEventStreamOnPostgres(t *testing.T) {
	t.Parallel()
	testEventStream(t, openPostgres(t))
}

// The stream's catch-up over many pages of the log, on PostgreSQL.
func TestEventStreamCatchesUpOverManyPagesOnPostgres(t *testing.T) {
	t.Parallel()
	testEventStreamCatchesUpOverManyPages(t, openPostgres(t))
}
