package memory

import "github.com/sety-io/sety/ports"

// What the adapter gives Sety: every port, and the capabilities it has.
var (
	_ ports.Stores = (*Store)(nil)
)
