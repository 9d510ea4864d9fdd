package postgres

import "github.com/sety-io/sety/ports"

// What the adapter gives Sety: every port, and the capabilities it has.
var (
	_ ports.Stores         = (*DB)(nil)
	_ ports.RateLeases     = (*DB)(nil)
	_ ports.Exclusive      = (*DB)(nil)
	_ ports.ConnectionPool = (*DB)(nil)
)
