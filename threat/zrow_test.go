package threat

import (
	"math"
	"math/rand/v2"
	"testing"
)

// zRow gives every cell of a row the very z (bit for bit) that z gives,
// on lattices cut at their edges and around the ring, with neighbourhoods
// from one cell to wider than the lattice; with a floor, every cell whose
// |z| reaches it gets its z, and the others their z or 0.
func TestZRowIsZ(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 9))
	for range 3000 {
		l := lattice{nx: 1 + rng.IntN(40), ny: 1 + rng.IntN(12), ring: rng.IntN(2) == 0, ky: rng.IntN(4)}
		l.kx = make([]int, l.ny)
		for y := range l.kx {
			l.kx[y] = rng.IntN(l.nx + 2)
		}
		l.x = make([]float64, l.nx*l.ny)
		for i := range l.x {
			if rng.IntN(3) > 0 {
				l.x[i] = rng.ExpFloat64() * float64(rng.IntN(50))
			}
		}
		if !l.prepare() {
			continue
		}
		for y := range l.ny {
			x0 := rng.IntN(l.nx)
			out := make([]float64, rng.IntN(l.nx-x0+1))
			floor := 0.0 // every z, some floor, or one at a cell's |z| exactly
			switch rng.IntN(3) {
			case 1:
				floor = rng.Float64() * 3
			case 2:
				floor = math.Abs(l.z(x0+rng.IntN(len(out)+1)%max(1, l.nx-x0), y))
			}
			l.zRow(y, x0, out, floor)
			for i, got := range out {
				want := l.z(x0+i, y)
				if math.Float64bits(got) != math.Float64bits(want) && (math.Abs(want) >= floor || got != 0) {
					t.Fatalf("%d×%d ring %v ky %d kx %v, cell (%d, %d), floor %v: zRow %v, z %v", l.nx, l.ny, l.ring, l.ky, l.kx, x0+i, y, floor, got, want)
				}
			}
		}
	}
}
