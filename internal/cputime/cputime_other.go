//go:build !unix

package cputime

import "time"

// Process is not measured where getrusage is missing (Windows): the
// benchmarks report 0 CPU per operation there.
func Process() time.Duration { return 0 }
