//go:build unix

package cputime

import "testing"

// Work done on the CPU shows in what Process reads.
func TestProcessCountsWorkDone(t *testing.T) {
	before := Process()
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	if after := Process(); after <= before {
		t.Fatalf("CPU time did not grow over a busy loop (%d): %v then %v", x, before, after)
	}
}
