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
	Count     int     `json:"count" example:"3" doc:"Incidents whose grid cell lies in this cell."`
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

// Heatmap spreads each grid cell's decayed weight over the output cells
// around it with a quartic kernel K(d) = (1 − (d/r)²)² of radius r =
// 1.5 × max(cell_m, grid cell), normalised so no weight is lost inside the
// box.
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
	nx := int(math.Ceil((box.MaxLng - box.MinLng) / deg))
	ny := int(math.Ceil((box.MaxLat - box.MinLat) / deg))
	if nx*ny > maxHeatmapCells {
		return nil, setyerr.Invalidf("cell_m", "gives %d cells for this bbox; at most %d: use a larger cell_m or a smaller bbox", nx*ny, maxHeatmapCells)
	}
	weights := make([]float64, nx*ny)
	counts := make([]int, nx*ny)
	radius := 1.5 * math.Max(cellM, e.cfg.CellM) / metersPerDegree // in degrees of latitude
	cos := math.Max(math.Cos((box.MinLat+box.MaxLat)/2*math.Pi/180), 0.01)
	rx, ry := int(math.Ceil(radius/cos/deg)), int(math.Ceil(radius/deg))
	kernel := make([]float64, 0, (2*rx+1)*(2*ry+1))

	out := &HeatmapResponse{BBox: [4]float64{box.MinLng, box.MinLat, box.MaxLng, box.MaxLat}, CellM: cellM, Window: w.wire(),
		Cells: []HeatmapCell{}, GeneratedAt: clock.At(e.now().UTC().Truncate(1e6))}
	e.mu.RLock()
	x0, y0, x1, y1 := e.g.span(box.MinLng-radius/cos, box.MinLat-radius, box.MaxLng+radius/cos, box.MaxLat+radius)
	visit := func(k cellKey, c *cell) {
		wt, n := w.weight(c)
		if wt == 0 && n == 0 {
			return
		}
		p := e.g.center(k)
		ox := int(math.Floor((p.Lng() - box.MinLng) / deg))
		oy := int(math.Floor((p.Lat() - box.MinLat) / deg))
		if ox >= 0 && ox < nx && oy >= 0 && oy < ny {
			counts[oy*nx+ox] += n
			out.TotalIncidents += n
		}
		kernel = kernel[:0]
		total := 0.0
		for dy := -ry; dy <= ry; dy++ {
			for dx := -rx; dx <= rx; dx++ {
				cx := box.MinLng + (float64(ox+dx)+0.5)*deg
				cy := box.MinLat + (float64(oy+dy)+0.5)*deg
				u := ((cx-p.Lng())*cos)*((cx-p.Lng())*cos) + (cy-p.Lat())*(cy-p.Lat())
				k := 0.0
				if u < radius*radius {
					t := 1 - u/(radius*radius)
					k = t * t
				}
				kernel = append(kernel, k)
				total += k
			}
		}
		if total == 0 {
			return
		}
		i := 0
		for dy := -ry; dy <= ry; dy++ {
			for dx := -rx; dx <= rx; dx++ {
				k := kernel[i]
				i++
				gx, gy := ox+dx, oy+dy
				if k == 0 || gx < 0 || gx >= nx || gy < 0 || gy >= ny {
					continue
				}
				weights[gy*nx+gx] += wt * k / total
			}
		}
	}
	if int64(x1-x0+1)*int64(y1-y0+1) > int64(len(e.cell)) {
		for k, c := range e.cell {
			if x, y := k.xy(); x >= x0 && x <= x1 && y >= y0 && y <= y1 {
				visit(k, c)
			}
		}
	} else {
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				if c := e.cell[keyOf(x, y)]; c != nil {
					visit(keyOf(x, y), c)
				}
			}
		}
	}
	e.mu.RUnlock()
	for _, v := range weights {
		out.MaxWeight = math.Max(out.MaxWeight, v)
	}
	for i, v := range weights {
		if v <= 0 {
			continue
		}
		out.Cells = append(out.Cells, HeatmapCell{
			Lng: round6(box.MinLng + (float64(i%nx)+0.5)*deg), Lat: round6(box.MinLat + (float64(i/nx)+0.5)*deg),
			Count: counts[i], Weight: math.Round(v*1000) / 1000, Intensity: math.Round(v/out.MaxWeight*1000) / 1000,
		})
	}
	out.MaxWeight = math.Round(out.MaxWeight*1000) / 1000
	return out, nil
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
