package threat

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRowIndexMatchesMap sets and removes rows at random, growing the index
// both ways and emptying it, and checks every look-up, the walk and the
// count against a map.
func TestRowIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 7))
	var ri rowIndex
	want := map[int32]*row{}
	check := func(step int) {
		t.Helper()
		if ri.n != len(want) {
			t.Fatalf("step %d: %d rows, want %d", step, ri.n, len(want))
		}
		for y := int32(-1200); y <= 1200; y++ {
			if got := ri.at(y); got != want[y] {
				t.Fatalf("step %d: row %d is %p, want %p", step, y, got, want[y])
			}
		}
		var ys []int32
		for y, r := range ri.all() {
			if r != want[y] {
				t.Fatalf("step %d: the walk gives %p as row %d, want %p", step, r, y, want[y])
			}
			ys = append(ys, y)
		}
		if w := slices.Sorted(maps.Keys(want)); !slices.Equal(ys, w) {
			t.Fatalf("step %d: the walk gives rows %v, want %v", step, ys, w)
		}
		if first, last := ri.span(); len(want) > 0 && (first > ys[0] || last < ys[len(ys)-1]) {
			t.Fatalf("step %d: span %d…%d misses rows %d…%d", step, first, last, ys[0], ys[len(ys)-1])
		}
	}
	for step := range 4000 {
		// Phases: spread from the middle, drain to empty, start far south.
		switch y := int32(rng.IntN(2001) - 1000); {
		case step == 2000:
			for y := range want {
				ri.remove(y)
				delete(want, y)
			}
		case step%2000 < 1300 || rng.IntN(3) == 0:
			r := &row{}
			ri.set(y, r)
			want[y] = r
		default:
			ri.remove(y)
			delete(want, y)
		}
		if step%97 == 0 || step == 2000 || step == 2001 {
			check(step)
		}
	}
	check(4000)
}

// TestSearchXIsBinarySearch checks searchX against the standard library's
// binary search on rows of columns dense, sparse, with runs and gaps, at
// the extremes of int32 and empty, for columns before, inside, between
// and past them.
func TestSearchXIsBinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 8))
	rows := [][]int32{nil, {5}, {-3, -2, -1, 0, 1, 2}, {math.MinInt32, 0, math.MaxInt32}, {math.MaxInt32 - 2, math.MaxInt32}}
	for range 400 {
		n := rng.IntN(300)
		x := int32(rng.IntN(2000) - 1000)
		xs := make([]int32, 0, n)
		for range n {
			x += 1 + int32(rng.IntN(4)/3*rng.IntN(50)) // mostly runs, some gaps
			xs = append(xs, x)
		}
		rows = append(rows, xs)
	}
	for k, xs := range rows {
		probe := []int32{math.MinInt32, math.MaxInt32, 0}
		for _, x := range xs {
			probe = append(probe, x-1, x, x+1)
		}
		for range 50 {
			probe = append(probe, int32(rng.IntN(4000)-2000))
		}
		for _, x := range probe {
			want, _ := slices.BinarySearch(xs, x)
			if got := searchX(xs, x); got != want {
				t.Fatalf("row %d (%d columns): searchX(%d) = %d, want %d", k, len(xs), x, got, want)
			}
		}
	}
}
