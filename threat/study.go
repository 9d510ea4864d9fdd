package threat

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/sety-io/sety/setyerr"
)

// zoneNeighbourhood is how many rows either side of a cell its Gi*
// neighbourhood reaches; it reaches as many columns as cover the same
// ground width (see grid.columnsAround).
const zoneNeighbourhood = 2

// maxZoneCells bounds the cells of a box a zone search studies (about
// 63 km × 63 km at 250 m); maxStudyCells bounds them with the margins,
// which grow towards the poles.
const (
	maxZoneCells  = 256 * 256
	maxStudyCells = 4 * maxZoneCells
)

// columnsAround is how many columns either side of a cell of row y its Gi*
// neighbourhood reaches: its 2·kx + 1 columns are as near as a whole odd
// number comes to the ground width of 2·zoneNeighbourhood + 1 cells at the
// equator, kx = round(((2·2 + 1) / cos φ − 1) / 2) with φ the row's middle
// latitude: 2 up to 36.9°, 3 to 53.1°, 12 at 78°. At most the whole ring.
func (g grid) columnsAround(y int32) int {
	c := math.Cos((float64(y) + 0.5) * g.deg * degToRad)
	v := (float64(2*zoneNeighbourhood+1)/c - 1) / 2
	return int(math.Min(math.Round(v), float64(g.cols())))
}

// study is the lattice of one box's Gi* study: the box's cells and a
// margin wide enough for every neighbourhood, with each cell's weight,
// count and grid cell. Lattice column i is grid column x0 + i, counted
// eastward past the antimeridian (the grid column is that modulo the
// ring); when the margins would meet around the globe the lattice is the
// whole ring. Lattice row j is grid row y0 + j; rows stop at the poles.
type study struct {
	lattice
	g        grid
	x0, y0   int32
	bx, by   int // the box's first lattice column and row
	bnx, bny int // the box's columns and rows
	// Each cell's incidents and grid cell, for a zone's evidence: only a
	// full study (a route's zones need neither) has them.
	n     []int
	cells []*cell

	row   []float64 // scratch: z of one row of the box
	cands []candidate
	cut   [3]float64
	marks []bool // scratch for neighbourhood unions (a full study's)
	sig   []int8 // the grade of each lattice cell spots found, else 0
	seen  []bool // scratch for merge's flood fill
	mem   *studyMemory
}

// studyMemory is the memory of a finished study, kept for the next one: a
// route's box fills half a megabyte, which fresh allocations take from the
// system page by page (a route's study spent more time faulting its
// memory in than reading its cells).
//
// Its cells are all nil, to their capacity, whenever it is in the pool
// (release clears them), so a study takes them without clearing them
// again: clearing half a megabyte of pointers twice, with the collector's
// write barriers, cost a route's study as much as reading its cells.
type studyMemory struct {
	x, row, sat []float64
	ps          []float64
	cands       []candidate
	n           []int
	cells       []*cell
	marks       []bool
	sig         []int8
	seen        []bool
}

var studyMemories = sync.Pool{New: func() any { return new(studyMemory) }}

// zeroed is s resized to n elements, all zero, in its own memory when it
// is large enough.
func zeroed[T any](s []T, n int) []T {
	s = slices.Grow(s[:0], n)[:n]
	clear(s)
	return s
}

// clean is s resized to n elements in its own memory when it is large
// enough, as they are: for memory kept zero (see studyMemory) or wholly
// written before it is read.
func clean[T any](s []T, n int) []T { return slices.Grow(s[:0], n)[:n] }

// release hands the study's memory to the next study; s is unusable after.
func (s *study) release() {
	m := s.mem
	m.x, m.row, m.sat, m.sig, m.seen, m.cands = s.x, s.row, s.sat, s.sig, s.seen, s.cands
	if s.cells != nil {
		clear(s.cells) // a pooled pointer would keep a removed row alive
		m.n, m.cells, m.marks = s.n, s.cells, s.marks
	}
	studyMemories.Put(m)
	*s = study{}
}

// gridCol is the grid column of lattice column i.
func (s *study) gridCol(i int) int32 { return s.g.wrapCol(s.x0 + int32(i)) }

// newStudy reads the weights of the box's cells and margins in the
// window, computes their Gi* z-scores and the Benjamini–Hochberg cut-offs
// over the box's cells, and with full each cell's incidents and grid cell
// for the zones' evidence; callers hold e.mu.
func (e *Engine) newStudy(w *window, box Box, full bool) (*study, error) {
	g := e.g
	x0 := g.col(box.MinLng)
	bnx := int(g.col(box.MinLng+box.width()) - x0 + 1)
	bnx = min(bnx, int(g.cols())) // a box all round the globe
	y0, y1 := max(g.row(box.MinLat), g.minRow()), min(g.row(box.MaxLat), g.maxRow())
	bny := int(y1 - y0 + 1)
	tooLarge := func() error {
		return setyerr.Invalidf("bbox", "is too large: at most %d × %d cells of %.0f m", 256, 256, e.cfg.CellM)
	}
	if int64(bnx)*int64(bny) > maxZoneCells {
		return nil, tooLarge()
	}
	sy0, sy1 := max(y0-zoneNeighbourhood, g.minRow()), min(y1+zoneNeighbourhood, g.maxRow())
	s := &study{g: g, y0: sy0, by: int(y0 - sy0), bnx: bnx, bny: bny}
	s.ny, s.ky = int(sy1-sy0+1), zoneNeighbourhood
	s.kx = make([]int, s.ny)
	mx := 0
	for j := range s.kx {
		s.kx[j] = g.columnsAround(sy0 + int32(j))
		mx = max(mx, s.kx[j])
	}
	if bnx+2*mx >= int(g.cols()) {
		s.ring, s.nx, s.x0, s.bx = true, int(g.cols()), x0, 0
	} else {
		s.nx, s.x0, s.bx = bnx+2*mx, x0-int32(mx), mx
	}
	if int64(s.nx)*int64(s.ny) > maxStudyCells {
		return nil, tooLarge()
	}
	size := s.nx * s.ny
	m := studyMemories.Get().(*studyMemory)
	s.mem = m
	// sig is graded by spots, which clears it first; x is cleared as it
	// is filled.
	s.x, s.sat, s.sig, s.seen = clean(m.x, size), m.sat, clean(m.sig, size), zeroed(m.seen, size)
	if full {
		s.n, s.cells, s.marks = zeroed(m.n, size), clean(m.cells, size), zeroed(m.marks, size)
	}
	lo, cols := float64(s.x0)*g.deg, int(g.cols())
	spans := lngSpans(lo+g.deg/2, lo+(float64(s.nx)-0.5)*g.deg)
	put := func(c *cell) {
		i := int(c.x - s.x0) // the column east of x0, round the seam if need be
		if i < 0 {
			i += cols
		} else if i >= cols {
			i -= cols
		}
		if i >= s.nx || c.y < sy0 || c.y > sy1 {
			return
		}
		k := int(c.y-sy0)*s.nx + i
		x, n := w.weight(c)
		s.x[k] = x
		if full {
			s.n[k], s.cells[k] = n, c
		}
	}
	minLat, maxLat := (float64(sy0)+0.5)*g.deg, (float64(sy1)+0.5)*g.deg
	var varies bool
	if int64(sy1)-int64(sy0) <= int64(e.rows.n) {
		// As cellsIn, calling put directly: a study reads every cell of
		// its lattice, and a call through a func value per cell cost a
		// route's study more than the reading.
		// Without a category filter a cell's sum answers most windows
		// of the default length (see cellSum), from the row's dense sums
		// rather than the cells.
		// Row by row, each cleared, filled and added to the totals while
		// it is in the cache.
		s.startTotals()
		for j := range s.ny {
			y, at := sy0+int32(j), j*s.nx
			clear(s.x[at : at+s.nx])
			if r := e.rows.at(y); r != nil {
				for _, sp := range spans.all() {
					x1 := g.col(sp[1])
					for i := searchX(r.xs, g.col(sp[0])); i < len(r.xs) && r.xs[i] <= x1; i++ {
						if w.hasFilter || !r.answers(i, w) {
							put(&r.cells[i])
							continue
						}
						col := int(r.xs[i] - s.x0) // as put
						if col < 0 {
							col += cols
						} else if col >= cols {
							col -= cols
						}
						if col >= s.nx {
							continue
						}
						s.x[at+col] = r.sums[i].w * w.scale
						if full {
							s.n[at+col], s.cells[at+col] = int(r.tails[i].n), &r.cells[i]
						}
					}
				}
			}
			s.addRow(j)
		}
		varies = s.endTotals()
	} else {
		clear(s.x)
		e.cellsIn(minLat, maxLat, spans.all(), put)
		varies = s.prepare()
	}
	// Only the cells that may stand out are kept, with their z: the z of
	// every cell of a route's box was as much memory again as its
	// weights, written and read back for the few that matter.
	s.row = clean(m.row, bnx) // every z is set below
	s.cands = m.cands[:0]
	if !varies {
		s.cut = [3]float64{-1, -1, -1} // nothing stands out
		return s, nil
	}
	for j := range bny {
		s.zRow(s.by+j, s.bx, s.row, zMin)
		for i, z := range s.row {
			if math.Abs(z) >= zMin {
				s.cands = append(s.cands, candidate{i: int32(j*bnx + i), z: z, p: twoSided(z)})
			}
		}
	}
	ps := clean(m.ps, len(s.cands))
	for k, c := range s.cands {
		ps[k] = c.p
	}
	slices.Sort(ps)
	m.ps = ps
	s.cut = fdrCutoffs(ps, bnx*bny)
	return s, nil
}

// candidate is a cell of the box that may be a hot or cold spot (|z| ≥
// zMin): its index among the box's cells (box row by box row), its z and
// its two-sided p, worked out once for the cut-offs and the grades alike.
type candidate struct {
	i    int32
	z, p float64
}

// spots returns the lattice indices, ascending, of the box's cells that
// are significant hot spots (hot) or cold spots, and grades them (1–3) in
// s.sig, where every other cell is 0.
func (s *study) spots(hot bool) []int {
	clear(s.sig)
	var out []int
	if s.cut[0] < 0 {
		return out
	}
	for _, c := range s.cands { // in the box's order, so ascending
		z := c.z
		if hot && z < zMin || !hot && z > -zMin {
			continue
		}
		if g := grade(c.p, s.cut); g > 0 {
			j, i := int(c.i)/s.bnx, int(c.i)%s.bnx
			k := (s.by+j)*s.nx + s.bx + i
			s.sig[k] = int8(g)
			out = append(out, k)
		}
	}
	return out
}

// zOf is the z of the box's cell at lattice index k.
// It is one of the candidates (spots finds no other), found by a binary
// search of their box indices, which ascend.
func (s *study) zOf(k int) float64 {
	i := int32((k/s.nx-s.by)*s.bnx + k%s.nx - s.bx)
	at, found := slices.BinarySearchFunc(s.cands, i, func(c candidate, i int32) int { return cmp.Compare(c.i, i) })
	if !found {
		return 0 // never: zones are made of spots
	}
	return s.cands[at].z
}
