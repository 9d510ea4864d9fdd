package storetest_test

import (
	"fmt"
	"testing"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/storetest"
)

// An adapter opts in from its own package's tests: a constructor of fresh
// stores, the features it has, and a test that runs the suite. The memory
// adapter stands in for yours here; in its package the functions below are
// declared as TestConformance and TestWebhooks, and go test runs them.
func Example() {
	newStores := func(testing.TB) storetest.Stores { return memory.New() }
	// A memory.Store is one Go value that nothing else can open, so Reopen
	// stays nil. An adapter over a database that several instances share
	// sets it, and the suite adds its shared-store tests:
	//
	//	Reopen: func(tb testing.TB, s storetest.Stores) storetest.Stores { return open(tb, s.(file).path) },
	features := storetest.Features{}

	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		// Every domain, each as a subtest: Auth, Incidents, Outbox, ...
		{"TestConformance", func(t *testing.T) { storetest.Run(t, newStores, features) }},
		// One domain alone, while its store is being written.
		{"TestWebhooks", func(t *testing.T) { storetest.TestWebhooks(t, newStores, features) }},
	}
	for _, test := range tests {
		fmt.Println(test.name)
	}
	// Output:
	// TestConformance
	// TestWebhooks
}
