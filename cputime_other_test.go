//go:build !unix

package sety_test

import "time"

// cpuTime is not measured where getrusage is missing (Windows): the
// benchmarks report 0 CPU per operation there.
func cpuTime() time.Duration { return 0 }
