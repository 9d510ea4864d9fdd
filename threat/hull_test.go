package threat

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sety-io/sety/geo"
)

// sortedHull is the convex hull of every corner of the cells, sorted by
// longitude then latitude (as zones made it before cellsHull).
func sortedHull(s *study, members []member) []geo.Point {
	deg := s.g.deg
	var pts []geo.Point
	for _, m := range members {
		west, south := float64(s.x0+int32(m.u))*deg, float64(s.y0+int32(m.i/s.nx))*deg
		for _, x := range []float64{west, west + deg} {
			pts = append(pts, geo.Point{x, south}, geo.Point{x, south + deg})
		}
	}
	slices.SortFunc(pts, func(a, b geo.Point) int {
		if c := cmpFloat(a[0], b[0]); c != 0 {
			return c
		}
		return cmpFloat(a[1], b[1])
	})
	return monotoneChain(slices.Compact(pts))
}

// A zone's hull from its columns' extreme corners is the very hull (point
// for point, bit for bit) of all its cells' corners, on grids of several
// sizes, anywhere on the globe and for zones of every shape.
func TestCellsHullIsHullOfCorners(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 11))
	for trial := range 4000 {
		g := newGrid([]float64{250, 100, 333, 1000}[trial%4])
		s := &study{g: g}
		s.nx = 1 + rng.IntN(12)
		ny := 1 + rng.IntN(12)
		s.x0 = g.wrapCol(int32(rng.IntN(int(g.cols()))))
		s.y0 = g.minRow() + int32(rng.IntN(int(g.cols()/2)-ny))
		// A random blob, and the 8-connected zone of its first cell.
		on := make([]bool, s.nx*ny)
		for i := range on {
			on[i] = rng.IntN(3) > 0
		}
		start := rng.IntN(len(on))
		on[start] = true
		shift := rng.IntN(2*s.nx+1) - s.nx // columns counted on across the ring
		members := []member{{start, start%s.nx + shift}}
		seen := map[int]bool{start: true}
		for k := 0; k < len(members); k++ {
			m := members[k]
			x, y := m.i%s.nx, m.i/s.nx
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if nx, ny2 := x+dx, y+dy; nx >= 0 && nx < s.nx && ny2 >= 0 && ny2 < ny && on[ny2*s.nx+nx] && !seen[ny2*s.nx+nx] {
						seen[ny2*s.nx+nx] = true
						members = append(members, member{ny2*s.nx + nx, m.u + dx})
					}
				}
			}
		}
		rng.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
		got, want := s.cellsHull(members), sortedHull(s, members)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: %d cells from column %d row %d: hull %v, of every corner %v", trial, len(members), s.x0, s.y0, got, want)
		}
	}
}
