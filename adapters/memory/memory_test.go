package memory_test

import (
	"testing"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) sety.Stores { return memory.New() })
}

func BenchmarkNearestAvailable(b *testing.B) {
	storetest.BenchmarkNearestAvailable(b, func(testing.TB) sety.Stores { return memory.New() })
}
