package sqlite

import "github.com/sety-io/sety/ports"

// What the adapter gives Sety: every port, and the capabilities it has.
var (
	_ ports.Stores         = (*DB)(nil)
	_ ports.RateLeases     = (*DB)(nil)
	_ ports.CommitObserver = (*DB)(nil)
	_ ports.Alone          = (*DB)(nil)
)
