package threat

import "iter"

// rowIndex finds a grid row by its number with one bounds test and one
// load: a dense slice from the southernmost populated row to the
// northernmost. A route's study and sweep look up every row they cross,
// and a map's hash look-up was a cache miss of its own per row on a cold
// route (about 8 µs for a 30 km route's 130 rows, measured with the
// caches evicted). It costs 8 bytes per row between the outermost rows
// ever populated, plus up to 65,536 rows of room while it grows (it grows
// by doubling, so loading rows north to south or south to north stays
// linear): with the default 250 m cells at most 1.2 MB for the whole
// globe, but with 10 m cells a pole-to-pole spread costs 16 MB however
// few its incidents. Callers hold the engine's lock (for writing to
// change it).
type rowIndex struct {
	base int32  // the row number of rows[0]
	rows []*row // rows[y−base], nil where no cell is populated
	n    int    // populated rows
}

// at returns row y, or nil.
func (ri *rowIndex) at(y int32) *row {
	// Below base, y−base is negative and its uint is past any length.
	if i := uint(int64(y) - int64(ri.base)); i < uint(len(ri.rows)) {
		return ri.rows[i]
	}
	return nil
}

// span returns the first and last row numbers the index covers; first >
// last when it holds none.
func (ri *rowIndex) span() (int32, int32) {
	return ri.base, ri.base + int32(len(ri.rows)) - 1
}

// set puts r, which is not nil, as row y, widening the index if need be.
func (ri *rowIndex) set(y int32, r *row) {
	switch {
	case len(ri.rows) == 0:
		ri.base, ri.rows = y, append(ri.rows[:0], nil)
	case y < ri.base:
		// Room for as many rows again south of y (up to 65,536), as
		// append leaves north.
		pad := int(ri.base-y) + min(len(ri.rows), 1<<16)
		grown := make([]*row, pad+len(ri.rows))
		copy(grown[pad:], ri.rows)
		ri.base, ri.rows = ri.base-int32(pad), grown
	case int(y-ri.base) >= len(ri.rows):
		ri.rows = append(ri.rows, make([]*row, int(y-ri.base)+1-len(ri.rows))...)
	}
	if ri.rows[y-ri.base] == nil {
		ri.n++
	}
	ri.rows[y-ri.base] = r
}

// remove forgets row y. The index keeps its width (rows are dropped when
// their last cell is, and may come back) until it holds no row.
func (ri *rowIndex) remove(y int32) {
	if ri.at(y) == nil {
		return
	}
	ri.rows[y-ri.base] = nil
	if ri.n--; ri.n == 0 {
		ri.base, ri.rows = 0, nil
	}
}

// all yields the populated rows, south to north.
func (ri *rowIndex) all() iter.Seq2[int32, *row] {
	return func(yield func(int32, *row) bool) {
		for i, r := range ri.rows {
			if r != nil && !yield(ri.base+int32(i), r) {
				return
			}
		}
	}
}
