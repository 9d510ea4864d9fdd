package threat

import (
	"math"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// HeatmapResponse is ready for a map heat layer.
type HeatmapResponse struct {
	BBox           [4]float64    `json:"bbox" example:"[3.3,6.4,3.5,6.6]" doc:"minLng, minLat, maxLng, maxLat."`
	CellM          float64       `json:"cell_m" example:"250" doc:"Side of each cell, in metres."`
	Window         Window        `json:"window" doc:"The incidents counted: created within it."`
	MaxWeight      float64       `json:"max_weight" example:"7.42" doc:"The highest cell weight: intensity is weight / max_weight."`
	TotalIncidents int           `json:"total_incidents" example:"120" doc:"Incidents within the box and the window."`
	Cells          []HeatmapCell `json:"cells" nullable:"false" doc:"Cells with weight only, ready for a map heat layer."`
	GeneratedAt    clock.Time    `json:"generated_at" doc:"When the answer was computed."`
}

// HeatmapCell is one output cell.
type HeatmapCell struct {
	Lng       float64 `json:"lng" example:"3.3792" doc:"Longitude of the cell's centre."`
	Lat       float64 `json:"lat" example:"6.5244" doc:"Latitude of the cell's centre."`
	Count     int     `json:"count" example:"3" doc:"Incidents inside this cell."`
	Weight    float64 `json:"weight" example:"4.1" doc:"Kernel-smoothed decayed weight."`
	Intensity float64 `json:"intensity" example:"0.55" doc:"weight / max_weight, 0–1."`
}

// maxHeatmapCells bounds the output grid.
const maxHeatmapCells = 250_000

// CellForZoom is the heatmap cell for a web-map zoom level: 16 screen
// pixels at the equator (zoom 15 gives about 76 m), clamped to 50–5,000 m.
func CellForZoom(zoom int) float64 {
	return math.Min(5000, math.Max(50, 16*156543.03/math.Exp2(float64(zoom))))
}

// Heatmap bins every incident of the box (and of a margin around it) into
// output cells of cell_m by its own position — cells of the engine's grid
// wholly inside one output cell are added from their totals — then
// spreads each output cell's decayed weight over the output cells around
// it with a quartic kernel K(d) = (1 − (d/r)²)² of radius r = 1.5 ×
// max(cell_m, grid cell), normalised so each cell's weight is kept. Output
// cells run from the box's south-west corner and are cut at its east and
// north edges; a box with MinLng > MaxLng runs east across the
// antimeridian. Counts are not smoothed: a cell's count is the incidents
// inside it and the box.
func (e *Engine) Heatmap(q Query, box Box, cellM float64) (*HeatmapResponse, error) {
	if err := box.Validate("bbox"); err != nil {
		return nil, err
	}
	if math.IsNaN(cellM) || cellM < 50 || cellM > 5000 {
		return nil, setyerr.Invalidf("cell_m", "must be between 50 and 5000")
	}
	w, err := e.window(q)
	if err != nil {
		return nil, err
	}
	deg := cellM / metersPerDegree
	width, height := box.width(), box.MaxLat-box.MinLat
	nx := int(math.Ceil(width / deg))
	ny := int(math.Ceil(height / deg))
	if nx*ny > maxHeatmapCells {
		return nil, setyerr.Invalidf("cell_m", "gives %d cells for this bbox; at most %d: use a larger cell_m or a smaller bbox", nx*ny, maxHeatmapCells)
	}
	radius := 1.5 * math.Max(cellM, e.cfg.CellM) / metersPerDegree // in degrees of latitude
	cos := math.Max(math.Cos((box.MinLat+box.MaxLat)/2*degToRad), 0.01)
	rx, ry := int(math.Ceil(radius/cos/deg)), int(math.Ceil(radius/deg))
	// The kernel, the same around every cell.
	kw, kh := 2*rx+1, 2*ry+1
	kernel := make([]float64, kw*kh)
	total := 0.0
	for dy := -ry; dy <= ry; dy++ {
		for dx := -rx; dx <= rx; dx++ {
			u := math.Pow(float64(dx)*deg*cos, 2) + math.Pow(float64(dy)*deg, 2)
			if u < radius*radius {
				t := 1 - u/(radius*radius)
				kernel[(dy+ry)*kw+dx+rx] = t * t
				total += t * t
			}
		}
	}
	// Bins of the box and its margin: px × py cells from (lng0, lat0).
	px, py := nx+2*rx, ny+2*ry
	lng0, lat0 := box.MinLng-float64(rx)*deg, box.MinLat-float64(ry)*deg
	bins := make([]float64, px*py)
	counts := make([]int, nx*ny)
	out := &HeatmapResponse{BBox: [4]float64{box.MinLng, box.MinLat, box.MaxLng, box.MaxLat}, CellM: cellM, Window: w.wire(),
		Cells: []HeatmapCell{}, GeneratedAt: clock.At(e.now().UTC().Truncate(1e6))}
	bin := func(lng, lat float64) (int, int, bool) {
		oy := int(math.Floor((lat - lat0) / deg))
		ox := int(math.Floor(east360(lng-lng0) / deg)) // east of the margin's west edge, across the antimeridian too
		return ox, oy, ox >= 0 && ox < px && oy >= 0 && oy < py
	}
	// count adds n incidents of the box to the output cell of bin (ox, oy):
	// the box's closed east and north edges belong to its last column and
	// row, and a point on its west or south edge that rounding put in the
	// margin to its first.
	count := func(ox, oy, n int) {
		gx, gy := min(max(ox-rx, 0), nx-1), min(max(oy-ry, 0), ny-1)
		counts[gy*nx+gx] += n
		out.TotalIncidents += n
	}
	gdeg := e.g.deg
	e.rlock(&w)
	spans := lngSpans(lng0, lng0+float64(px)*deg)
	e.cellsIn(lat0, lat0+float64(py)*deg, spans.all(), func(c *cell) {
		i, j := w.span(c)
		if i == j {
			return
		}
		// A grid cell wholly inside one output cell counts from its totals,
		// when it lies wholly inside or outside the box.
		west, south := float64(c.x)*gdeg, float64(c.y)*gdeg
		e0 := box.eastOf(west)
		inBox := e0+gdeg <= width && south >= box.MinLat && south+gdeg <= box.MaxLat
		outBox := e0 > width && e0+gdeg <= 360 || south > box.MaxLat || south+gdeg <= box.MinLat
		ax, ay, okA := bin(west, south)
		bx, by, okB := bin(math.Nextafter(west+gdeg, math.Inf(-1)), math.Nextafter(south+gdeg, math.Inf(-1)))
		whole := (inBox || outBox) && okA && okB
		if whole && ax == bx && ay == by {
			wt, n := w.sum(c, i, j)
			bins[ay*px+ax] += wt
			if inBox && n > 0 {
				count(ax, ay, n)
			}
			return
		}
		if whole && bx-ax <= 1 && by-ay <= 1 && bx >= ax {
			// Across at most one output edge each way: two comparisons
			// place a record in one of four output cells.
			tx := float64(ax+1)*deg - east360(e0+float64(rx)*deg) // the west edge is e0 + rx·deg east of lng0
			ty := float64(ay+1)*deg - (south - lat0)
			var sums [4]float64
			var ns [4]int
			for k := i; k < j; k++ {
				r := &c.recs[k]
				if !w.catMask[r.cat] {
					continue
				}
				q := 0
				if float64(r.dLng) >= tx {
					q = 1
				}
				if float64(r.dLat) >= ty {
					q += 2
				}
				sums[q] += c.cumAt(k+1).w - r.before.w
				ns[q]++
			}
			for q := range 4 {
				if ns[q] > 0 {
					bins[(ay+q/2)*px+ax+q%2] += sums[q] * w.scale
					if inBox {
						count(ax+q%2, ay+q/2, ns[q])
					}
				}
			}
			return
		}
		for k := i; k < j; k++ {
			if !w.catMask[c.recs[k].cat] {
				continue
			}
			lng, lat := e.g.point(c, &c.recs[k])
			if ox, oy, ok := bin(lng, lat); ok {
				bins[oy*px+ox] += w.weightOf(c, k)
				if box.contains(lng, lat) {
					count(ox, oy, 1)
				}
			}
		}
	})
	e.mu.RUnlock()
	weights := make([]float64, nx*ny)
	for oy := range py {
		for ox := range px {
			v := bins[oy*px+ox]
			if v == 0 {
				continue
			}
			for dy := -ry; dy <= ry; dy++ {
				gy := oy - ry + dy
				if gy < 0 || gy >= ny {
					continue
				}
				for dx := -rx; dx <= rx; dx++ {
					gx := ox - rx + dx
					if k := kernel[(dy+ry)*kw+dx+rx]; k > 0 && gx >= 0 && gx < nx {
						weights[gy*nx+gx] += v * k / total
					}
				}
			}
		}
	}
	for _, v := range weights {
		out.MaxWeight = math.Max(out.MaxWeight, v)
	}
	for i, v := range weights {
		if v <= 0 {
			continue
		}
		west, south, east, north := heatmapCellBounds(box, deg, i%nx, i/nx)
		out.Cells = append(out.Cells, HeatmapCell{
			Lng: round6(wrapLng((west + east) / 2)), Lat: round6((south + north) / 2),
			Count: counts[i], Weight: math.Round(v*1000) / 1000, Intensity: math.Round(v/out.MaxWeight*1000) / 1000,
		})
	}
	out.MaxWeight = math.Round(out.MaxWeight*1000) / 1000
	return out, nil
}

// heatmapCellBounds is output cell (gx, gy) of a box, cut at the box's
// east and north edges; its longitudes count on eastward from the box's
// west edge, past 180 for a box across the antimeridian.
func heatmapCellBounds(box Box, deg float64, gx, gy int) (west, south, east, north float64) {
	west, south = box.MinLng+float64(gx)*deg, box.MinLat+float64(gy)*deg
	return west, south, math.Min(west+deg, box.MinLng+box.width()), math.Min(south+deg, box.MaxLat)
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
