package memory_test

import (
	"testing"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sety.Stores { return memory.New() })
}
