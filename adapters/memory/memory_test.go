package memory_test

import (
	"testing"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/storetest"
)

func newStores(testing.TB) storetest.Stores { return memory.New() }

// A memory.Store is one Go value: nothing else can open its data, so
// Features leaves Reopen nil.
func TestConformance(t *testing.T) {
	storetest.Run(t, newStores, storetest.Features{QueuedCreate: true})
}

func BenchmarkNearestAvailable(b *testing.B) { storetest.BenchmarkNearestAvailable(b, newStores) }

func BenchmarkClaimBesideBacklog(b *testing.B) { storetest.BenchmarkClaimBesideBacklog(b, newStores) }

func BenchmarkListIncidents(b *testing.B) { storetest.BenchmarkListIncidents(b, newStores) }

func BenchmarkPurgeSessions(b *testing.B) { storetest.BenchmarkPurgeSessions(b, newStores) }

func BenchmarkAuthenticateSession(b *testing.B) { storetest.BenchmarkAuthenticateSession(b, newStores) }
