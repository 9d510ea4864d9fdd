package threat

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sety-io/sety/geo"
)

// The oracle of the zone tests: a study's lattice rebuilt from the reports
// themselves (each report's weight by brute force, put in the cell its own
// position falls in by the grid's definition), and its significant cells,
// levels and zones found with a plain Benjamini–Hochberg and a plain
// flood fill, written apart from the engine's.

// bruteLattice is the lattice of s rebuilt from b's reports in the window
// of days.
func bruteLattice(g grid, s *study, b *brute, days int) ([]float64, []int) {
	x, n := make([]float64, len(s.x)), make([]int, len(s.x))
	for _, r := range b.reports {
		if !b.inWindow(r, days) {
			continue
		}
		lng, lat := r.Location.Lng(), r.Location.Lat()
		if lng >= 180 {
			lng -= 360
		}
		col := int32(math.Floor(lng * float64(g.half) / 180))
		row := min(int32(math.Floor(lat*float64(g.half)/180)), g.half/2-1)
		i := int(((col-s.x0)%g.cols() + g.cols()) % g.cols())
		j := int(row - s.y0)
		if i < s.nx && j >= 0 && j < s.ny {
			x[j*s.nx+i] += b.weight(r)
			n[j*s.nx+i]++
		}
	}
	return x, n
}

// oracleZone is a zone as the oracle finds it: its cells, the grade of the
// strongest, its highest z, and the cells of their neighbourhoods.
type oracleZone struct {
	cells    []int
	grade    int
	z        float64
	evidence map[int]bool
}

// oracleZones finds the hot zones of a lattice: BH over the box's
// two-sided p-values at each q, 8-connected significant hot cells.
func oracleZones(s *study, l *lattice) []oracleZone {
	type test struct {
		i    int
		z, p float64
	}
	var tests []test
	for j := range s.bny {
		for i := range s.bnx {
			k := (s.by+j)*s.nx + s.bx + i
			z := l.z(k%s.nx, k/s.nx)
			tests = append(tests, test{k, z, math.Erfc(math.Abs(z) / math.Sqrt2)})
		}
	}
	slices.SortFunc(tests, func(a, b test) int { return cmpFloat(a.p, b.p) })
	grade := map[int]int{}
	for _, q := range []float64{0.10, 0.05, 0.01} {
		last := -1
		for k, t := range tests {
			if t.p <= float64(k+1)*q/float64(len(tests)) {
				last = k
			}
		}
		for _, t := range tests[:last+1] {
			if t.z > 0 {
				grade[t.i]++
			}
		}
	}
	var zones []oracleZone
	done := map[int]bool{}
	for _, t := range tests {
		if grade[t.i] == 0 || done[t.i] {
			continue
		}
		z := oracleZone{evidence: map[int]bool{}, z: math.Inf(-1)}
		queue := []int{t.i}
		done[t.i] = true
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			z.cells = append(z.cells, c)
			z.grade, z.z = max(z.grade, grade[c]), math.Max(z.z, l.z(c%s.nx, c/s.nx))
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := c%s.nx+dx, c/s.nx+dy
					if s.ring {
						x = (x + s.nx) % s.nx
					}
					if n := y*s.nx + x; x >= 0 && x < s.nx && y >= 0 && y < s.ny && grade[n] > 0 && !done[n] {
						done[n] = true
						queue = append(queue, n)
					}
				}
			}
			cy := c / s.nx
			for y := cy - s.ky; y <= cy+s.ky; y++ {
				for dx := -s.kx[cy]; dx <= s.kx[cy]; dx++ {
					x := c%s.nx + dx
					if s.ring {
						x = ((x % s.nx) + s.nx) % s.nx
					}
					if y >= 0 && y < s.ny && x >= 0 && x < s.nx {
						z.evidence[y*s.nx+x] = true
					}
				}
			}
		}
		zones = append(zones, z)
	}
	return zones
}

// studyOf runs the engine's study of a box over the window of days.
func studyOf(t *testing.T, e *Engine, box Box, days int) (*study, window) {
	t.Helper()
	w := e.mustWindow(t, days)
	e.rlock(&w)
	defer e.mu.RUnlock()
	s, err := e.newStudy(&w, box, true)
	if err != nil {
		t.Fatal(err)
	}
	return s, w
}

// The study's cells hold exactly the reports whose own position falls in
// them, and its z-scores are those of that lattice: across the
// antimeridian, at 78° N with wide neighbourhoods, and all round the
// globe near the pole.
func TestStudyMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cellM  float64
		centre geo.Point
		km     float64
		box    Box
		ring   bool
	}{
		{"lagos", 250, Lagos, 12, Box{3.33, 6.48, 3.43, 6.57}, false},
		{"antimeridian", 250, geo.NewPoint(-16.5, 180), 12, Box{179.96, -16.55, -179.95, -16.46}, false},
		{"east of the seam", 250, geo.NewPoint(-16.5, 180), 12, Box{-180, -16.55, -179.95, -16.46}, false}, // the margin wraps west
		{"west of the seam", 250, geo.NewPoint(-16.5, 180), 12, Box{179.95, -16.55, 180, -16.46}, false},
		{"78N", 250, geo.NewPoint(78, 15.6), 12, Box{15.4, 77.96, 15.8, 78.04}, false},
		{"pole", 10000, geo.NewPoint(89.6, 0), 80, Box{-180, 89.2, 180, 90}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(Config{CellM: tc.cellM, Now: func() time.Time { return exactNow }})
			reports := randomReports(21, 20000, tc.centre, tc.km)
			for _, r := range reports {
				e.Add(r)
			}
			b := &brute{reports: reports, now: exactNow, halfLife: e.cfg.HalfLife}
			s, _ := studyOf(t, e, tc.box, 90)
			if s.ring != tc.ring {
				t.Fatalf("ring %v, want %v (%d × %d cells)", s.ring, tc.ring, s.nx, s.ny)
			}
			x, n := bruteLattice(e.g, s, b, 90)
			total := 0
			for i := range x {
				if s.n[i] != n[i] || !near(s.x[i], x[i]) {
					t.Fatalf("cell %d: %d incidents weighing %v, exact %d weighing %v", i, s.n[i], s.x[i], n[i], x[i])
				}
				total += n[i]
			}
			l := &lattice{nx: s.nx, ny: s.ny, ring: s.ring, ky: s.ky, kx: s.kx, x: x}
			if total == 0 || !l.prepare() {
				t.Fatal("an empty study")
			}
			// Every cell that may stand out is a candidate with its z, and
			// no other.
			kept := map[int32]float64{}
			for _, c := range s.cands {
				kept[c.i] = c.z
			}
			for j := range s.bny {
				for i := range s.bnx {
					want := l.z(s.bx+i, s.by+j)
					got, ok := kept[int32(j*s.bnx+i)]
					if ok && math.Abs(got-want) > 1e-9 || !ok && math.Abs(want) >= zMin+1e-9 {
						t.Fatalf("box cell %d,%d: z %v (a candidate: %v), exact %v", i, j, got, ok, want)
					}
					if ok && s.zOf((s.by+j)*s.nx+s.bx+i) != got {
						t.Fatalf("box cell %d,%d: zOf %v, z %v", i, j, s.zOf((s.by+j)*s.nx+s.bx+i), got)
					}
				}
			}
			t.Logf("%d incidents in %d × %d cells (%d × %d in the box), kx %d–%d", total, s.nx, s.ny, s.bnx, s.bny, slices.Min(s.kx), slices.Max(s.kx))
		})
	}
}
