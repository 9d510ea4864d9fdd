package threat

import (
	"math"
	"slices"
)

// The statistics of a hot-spot study, apart from where its numbers come
// from: Getis-Ord Gi* z-scores on a lattice of cell values with binary
// weights (each cell's neighbourhood, itself included, weighs 1), and the
// Benjamini–Hochberg cut-offs that grade them. They match PySAL's esda
// (G_Local with star=True and binary weights; esda.fdr) on the lattices of
// testdata/esda_gistar.json, written by tools/esda.

// lattice is ny rows of nx cell values, row by row. The neighbourhood of
// cell (x, y) is the rows y−ky … y+ky and the columns x−kx[y] … x+kx[y]:
// around the ring when ring (column nx−1 is the west neighbour of column 0),
// else cut at the lattice's edges.
type lattice struct {
	nx, ny int
	ring   bool
	ky     int
	kx     []int // per row
	x      []float64

	sat       []float64 // summed-area table, (nx+1) × (ny+1)
	sum, sum2 float64   // of the rows added so far (see startTotals)
	mean, sd  float64   // of x over every cell (the deviation divides by N)
	n         float64   // cells
}

// prepare computes the lattice's totals; false when its values do not vary
// (no cell then stands out).
func (l *lattice) prepare() bool {
	l.startTotals()
	for y := range l.ny {
		l.addRow(y)
	}
	return l.endTotals()
}

// startTotals, addRow for every row in order and endTotals are prepare,
// for a caller that fills the rows one by one: each row is read for the
// totals and the summed-area table alike while it is still in the cache
// (a route's lattice is half a megabyte); the totals add the values in
// the same order as ever.
func (l *lattice) startTotals() {
	w := l.nx + 1
	l.sat = slices.Grow(l.sat[:0], w*(l.ny+1))[:w*(l.ny+1)]
	clear(l.sat[:w])
	l.sum, l.sum2 = 0, 0
}

func (l *lattice) addRow(y int) {
	w := l.nx + 1
	sum, sum2, row := l.sum, l.sum2, 0.0
	l.sat[(y+1)*w] = 0
	above, here := l.sat[y*w+1:(y+1)*w], l.sat[(y+1)*w+1:(y+2)*w]
	for x, v := range l.x[y*l.nx : (y+1)*l.nx] {
		sum += v
		sum2 += v * v
		row += v
		here[x] = above[x] + row
	}
	l.sum, l.sum2 = sum, sum2
}

func (l *lattice) endTotals() bool {
	l.n = float64(len(l.x))
	l.mean = l.sum / l.n
	l.sd = math.Sqrt(math.Max(0, l.sum2/l.n-l.mean*l.mean))
	return l.sd != 0 && l.n >= 2
}

// rect is the sum of the cells in columns ax … bx and rows ay … by.
func (l *lattice) rect(ax, ay, bx, by int) float64 {
	w := l.nx + 1
	return l.sat[(by+1)*w+bx+1] - l.sat[ay*w+bx+1] - l.sat[(by+1)*w+ax] + l.sat[ay*w+ax]
}

// local is the sum of the neighbourhood of cell (x, y) and its size.
func (l *lattice) local(x, y int) (sum, size float64) {
	ay, by := max(0, y-l.ky), min(l.ny-1, y+l.ky)
	rows := float64(by - ay + 1)
	k := l.kx[y]
	switch {
	case l.ring && 2*k+1 >= l.nx: // the whole ring
		return l.rect(0, ay, l.nx-1, by), rows * float64(l.nx)
	case !l.ring:
		ax, bx := max(0, x-k), min(l.nx-1, x+k)
		return l.rect(ax, ay, bx, by), rows * float64(bx-ax+1)
	}
	ax, bx := x-k, x+k
	if ax < 0 {
		sum += l.rect(ax+l.nx, ay, l.nx-1, by)
		ax = 0
	}
	if bx >= l.nx {
		sum += l.rect(0, ay, bx-l.nx, by)
		bx = l.nx - 1
	}
	return sum + l.rect(ax, ay, bx, by), rows * float64(2*k+1)
}

// z is the Gi* z-score of cell (x, y):
//
//	Gi* = (Σ_j x_j − X̄·W) / (S·√((N·W − W²)/(N − 1)))
//
// over its neighbourhood of W cells; 0 when the neighbourhood is the whole
// lattice (it cannot differ from it).
func (l *lattice) z(x, y int) float64 {
	s, w := l.local(x, y)
	v := (l.n*w - w*w) / (l.n - 1)
	if v <= 0 {
		return 0
	}
	return (s - l.mean*w) / (l.sd * math.Sqrt(v))
}

// zRow sets out[i] to z(x0+i, y) for every i whose |z| may reach floor,
// and to 0 for the others (whose |z| is below floor): as z does, but
// working out the denominator once for each neighbourhood size (within a
// row it changes only at the lattice's edges), and summing a neighbourhood
// wholly inside the lattice's columns straight from the summed-area table
// (the same four terms in the same order as rect). With floor 0 every z is
// set.
//
// A division for every cell was most of a study's z-scores, and only the
// few cells that may stand out need their z to the bit: the others are
// ruled out by multiplying by the denominator's reciprocal, which is
// within three units in the last place of the quotient, with a margin of
// a million times that.
//
// The cells whose neighbourhoods lie wholly inside the lattice's columns
// (all but a few at the edges) share one size and one denominator, and
// are worked out in a loop of their own over the four columns of the
// table they read, without a test of where each lies.
func (l *lattice) zRow(y, x0 int, out []float64, floor float64) {
	ay, by := max(0, y-l.ky), min(l.ny-1, y+l.ky)
	k, w := l.kx[y], l.nx+1
	top, bottom := l.sat[(by+1)*w:(by+2)*w], l.sat[ay*w:(ay+1)*w]
	below := floor * (1 - 1e-9)
	lo, hi := 0, 0 // out[lo:hi] are the cells inside
	if !l.ring || 2*k+1 < l.nx {
		lo = min(max(k-x0, 0), len(out))
		hi = min(max(l.nx-k-x0, lo), len(out))
	}
	l.zEdge(y, x0, out[:lo], below)
	l.zEdge(y, x0+hi, out[hi:], below)
	if lo == hi {
		return
	}
	size := float64((by - ay + 1) * (2*k + 1))
	v := (l.n*size - size*size) / (l.n - 1)
	in := out[lo:hi]
	if v <= 0 {
		clear(in)
		return
	}
	den := l.sd * math.Sqrt(v)
	inv := 1 / den
	a := x0 + lo // the first cell inside: its columns a−k … a+k
	east, eastBelow := top[a+k+1:a+k+1+len(in)], bottom[a+k+1:a+k+1+len(in)]
	west, westBelow := top[a-k:a-k+len(in)], bottom[a-k:a-k+len(in)]
	for i := range in {
		s := east[i] - eastBelow[i] - west[i] + westBelow[i]
		num := s - l.mean*size
		z := 0.0
		if math.Abs(num*inv) >= below {
			z = num / den
		}
		in[i] = z
	}
}

// zEdge is zRow for the cells x0 … x0+len(out)−1 of row y, wherever their
// neighbourhoods lie, with below the floor less its margin.
func (l *lattice) zEdge(y, x0 int, out []float64, below float64) {
	lastW, den, inv, spread := -1.0, 0.0, 0.0, false
	for i := range out {
		s, size := l.local(x0+i, y)
		if size != lastW {
			v := (l.n*size - size*size) / (l.n - 1)
			lastW, den, spread = size, l.sd*math.Sqrt(v), v > 0
			inv = 1 / den
		}
		num := s - l.mean*size
		if !spread || math.Abs(num*inv) < below {
			out[i] = 0
			continue
		}
		out[i] = num / den
	}
}

// The confidence levels of ArcGIS's Hot Spot Analysis and the false
// discovery rate of each: a cell is a hot (or cold) spot at 90 % confidence
// when it passes Benjamini–Hochberg at q = 0.10, at 95 % at q = 0.05, at
// 99 % at q = 0.01.
var fdrLevels = [3]float64{0.10, 0.05, 0.01}

// zMin is the |z| below which no cell passes any level: its two-sided p
// is above the largest q.
const zMin = 1.6448536269514722

// twoSided is the two-sided p-value of a z-score under the normal law.
func twoSided(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

// fdrCutoffs returns, for each q of fdrLevels, the Benjamini–Hochberg
// cut-off over m tests: the largest p_(k) with p_(k) ≤ k·q/m, or −1 when
// no test passes. ps holds the p-values that may pass (at most the largest
// q; the others cannot), sorted ascending.
func fdrCutoffs(ps []float64, m int) [3]float64 {
	cut := [3]float64{-1, -1, -1}
	for i, p := range ps {
		for l, q := range fdrLevels {
			if p <= float64(i+1)/float64(m)*q {
				cut[l] = p
			}
		}
	}
	return cut
}

// grade is how many levels a p-value passes: 0 none, 1 at 90 %, 2 at 95 %,
// 3 at 99 % (the cut-offs only shrink as q does).
func grade(p float64, cut [3]float64) int {
	g := 0
	for _, c := range cut {
		if p <= c {
			g++
		}
	}
	return g
}
