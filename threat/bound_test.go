package threat

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// dirRank is the number of directory times before t, as a scan counts
// them, for full directories and small cells' (leading zeros) alike.
func TestDirRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for range 20000 {
		var c cell
		used := rng.IntN(dirN + 1)
		for k := dirN - used; k < dirN; k++ {
			c.dir[k] = uint32(1 + rng.IntN(40))
		}
		slices.Sort(c.dir[:])
		for t0 := uint32(0); t0 <= 42; t0++ {
			want := 0
			for want < dirN && c.dir[want] < t0 {
				want++
			}
			if got := c.dirRank(t0); got != want {
				t.Fatalf("dir %v, t %d: rank %d, want %d", c.dir, t0, got, want)
			}
		}
	}
}
