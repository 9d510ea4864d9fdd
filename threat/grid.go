package threat

import (
	"math"
	"slices"
	"time"

	"github.com/sety-io/sety/geo"
)

// metersPerDegree is the length of a degree of latitude.
const metersPerDegree = 111195.0

// cellKey packs a cell's column (x, longitude) and row (y, latitude).
type cellKey int64

func keyOf(x, y int32) cellKey { return cellKey(int64(y)<<32 | int64(uint32(x))) }

func (k cellKey) xy() (int32, int32) { return int32(uint32(k)), int32(k >> 32) }

// grid maps positions to square cells of a fixed size in degrees: cellM
// metres of latitude, and as many degrees of longitude (narrower away from
// the equator: at Lagos 0.7 % narrower, at 60° half as wide).
type grid struct {
	deg   float64 // cell side in degrees
	cellM float64 // cell side in metres of latitude
}

func newGrid(cellM float64) grid { return grid{deg: cellM / metersPerDegree, cellM: cellM} }

func (g grid) key(p geo.Point) cellKey {
	return keyOf(int32(math.Floor(p.Lng()/g.deg)), int32(math.Floor(p.Lat()/g.deg)))
}

func (g grid) center(k cellKey) geo.Point {
	x, y := k.xy()
	return geo.Point{(float64(x) + 0.5) * g.deg, (float64(y) + 0.5) * g.deg}
}

// span returns the cell columns and rows covering a box.
func (g grid) span(minLng, minLat, maxLng, maxLat float64) (x0, y0, x1, y1 int32) {
	return int32(math.Floor(minLng / g.deg)), int32(math.Floor(minLat / g.deg)),
		int32(math.Floor(maxLng / g.deg)), int32(math.Floor(maxLat / g.deg))
}

func categoryIndex(c Category) int { return slices.Index(Categories, c) }

// bucket aggregates one cell's incidents of one UTC day.
type bucket struct {
	day   int32      // days since the Unix epoch
	n     uint32     // incidents
	w     [4]float32 // severity-weighted incidents, by category
	cats  [4]uint16  // incidents by category
	sevs  [4]uint16  // incidents by severity
	hours [24]uint16 // incidents by UTC hour of day
}

// cell is one grid cell: its day buckets, oldest first.
type cell struct {
	buckets []bucket
	last    int64 // unix seconds of the newest incident, for last_incident_at
}

func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// add adds (sign +1) or removes (sign -1) one incident.
func (c *cell) add(r Report, sign int) {
	day := dayOf(r.At)
	i, found := slices.BinarySearchFunc(c.buckets, day, func(b bucket, d int32) int { return int(b.day - d) })
	if !found {
		if sign < 0 {
			return
		}
		c.buckets = slices.Insert(c.buckets, i, bucket{day: day})
	}
	b := &c.buckets[i]
	ci, si := categoryIndex(r.Category), slices.Index(Severities, r.Severity)
	h := r.At.UTC().Hour()
	if sign > 0 {
		b.n++
		b.w[ci] += float32(SeverityWeights[r.Severity])
		b.cats[ci]++
		b.sevs[si]++
		b.hours[h]++
		c.last = max(c.last, r.At.Unix())
		return
	}
	if b.n == 0 || b.cats[ci] == 0 || b.sevs[si] == 0 || b.hours[h] == 0 {
		return // not here: nothing to remove
	}
	b.n--
	b.w[ci] = max(0, b.w[ci]-float32(SeverityWeights[r.Severity]))
	b.cats[ci]--
	b.sevs[si]--
	b.hours[h]--
	if b.n == 0 {
		c.buckets = slices.Delete(c.buckets, i, i+1)
	}
}

// window is a query's time frame with its decay factors precomputed.
type window struct {
	from, to  time.Time
	startDay  int32
	endDay    int32
	decay     []float64 // by age in days
	catMask   [4]bool   // categories counted
	hasFilter bool
}

func newWindow(now time.Time, days int, halfLife time.Duration, category Category) window {
	w := window{from: now.Add(-time.Duration(days) * 24 * time.Hour), to: now, endDay: dayOf(now)}
	w.startDay = dayOf(w.from)
	w.decay = make([]float64, w.endDay-w.startDay+1)
	// An incident of day d is aged from the middle of that day.
	nowDays := float64(now.Unix()) / 86400
	for i := range w.decay {
		age := max(0, nowDays-(float64(w.endDay-int32(i))+0.5))
		w.decay[i] = math.Exp2(-age * 86400 / halfLife.Seconds())
	}
	for i, c := range Categories {
		w.catMask[i] = category == "" || c == category
	}
	w.hasFilter = category != ""
	return w
}

// span returns the buckets of c inside the window.
func (w *window) span(c *cell) []bucket {
	lo, _ := slices.BinarySearchFunc(c.buckets, w.startDay, func(b bucket, d int32) int { return int(b.day - d) })
	hi, _ := slices.BinarySearchFunc(c.buckets, w.endDay+1, func(b bucket, d int32) int { return int(b.day - d) })
	return c.buckets[lo:hi]
}

// weight is the decayed severity weight and the count of c in the window.
func (w *window) weight(c *cell) (float64, int) {
	var sum float64
	n := 0
	bs := w.span(c)
	for i := range bs {
		b := &bs[i]
		f := w.decay[w.endDay-b.day]
		for k, on := range w.catMask {
			if on {
				sum += float64(b.w[k]) * f
				n += int(b.cats[k])
			}
		}
	}
	return sum, n
}
