package main

import "testing"

// TestSpread: the summary of per-round ratios gives their median, the
// middle half of the rounds and how many rounds reached 1.00 as printed.
func TestSpread(t *testing.T) {
	for _, c := range []struct {
		rounds []float64
		want   string
	}{
		{[]float64{0.91, 0.95, 1.03, 0.95}, "median 0.95, middle half 0.94–0.97, 1 of 4 rounds ≥ 1.00"},
		{[]float64{1.25, 0.97, 1.11, 1.08}, "median 1.10, middle half 1.05–1.15, 3 of 4 rounds ≥ 1.00"},
		{[]float64{0.996, 0.97}, "median 0.98, middle half 0.98–0.99, 1 of 2 rounds ≥ 1.00"},
		{[]float64{0.80}, "median 0.80, middle half 0.80–0.80, 0 of 1 rounds ≥ 1.00"},
	} {
		if got := spread(c.rounds); got != c.want {
			t.Errorf("spread(%v) = %q; want %q", c.rounds, got, c.want)
		}
	}
}
