// Package threat turns incident history into threat intelligence: danger
// zones, danger analytics for a place, heatmaps, a 0–100 safety score and
// route safety.
//
// # Data
//
// The engine sees [Report]s only — where, when, what, how bad — and
// depends on no other domain. Sety's facade translates its incidents into
// reports: the live, non-drill incidents that were not false alarms, from
// a [Source] at start, then from committed events ([Engine.Add] and
// [Engine.Remove]); external reports come through [Engine.Add] too. It
// keeps no report, only aggregates:
// a grid of square cells (250 m by default; cells are that many degrees of
// latitude wide, so narrower away from the equator) and, per cell, one
// bucket per UTC day with the count, the severity-weighted count by
// category, and counts by category, severity and hour of day. An ingest is
// a map look-up and a bucket update; a query reads cells, never incidents.
// A million incidents take about 90 MB.
//
// # Weights
//
// An incident weighs w = s · 2^(−age / 30 days), s being its severity
// weight (low 1, medium 2, high 3, critical 5), its age counted from the
// middle of its day (at most half a day off: 1.2 % of a weight). A window
// of `days` (1–365, default 90) counts the buckets of those days.
//
// # Safety score
//
// D = Σ w within the radius (default 500 m) / area in km². The reference
// distribution R is D around every populated cell, at 500 m over 90 days,
// rebuilt at most every 10 minutes (fixed in between, so adding an
// incident never raises a score). With F(D) the share of R below D
// (interpolated) and L(D) = min(1, ln(1 + D/median R) / ln(1 + 2·max R /
// median R)):
//
//	score = ⌊100 · (1 − (F(D) + L(D)) / 2)⌋, and 100 when D = 0.
//
// F spreads a city's ordinary blocks over the range; L keeps its worst
// ones apart on a log scale. Levels: safe 80–100, moderate 60–79, caution
// 40–59, dangerous 20–39, critical 0–19. With `at`, D is multiplied by
// the area's hour factor (c_h + 2) / (n/24 + 2), clamped to [0.5, 3], c_h
// being the incidents at that UTC hour among n. Confidence: low under 5
// incidents, medium under 30, else high.
//
// # Danger zones
//
// Over the cells of the box (plus a 2-cell margin), x_i = Σ w of cell i.
// Getis-Ord Gi* with binary weights over the 5 × 5 cells around i:
//
//	Gi* = (Σ_j x_j − X̄·W) / (S·√((N·W − W²)/(N − 1)))
//
// with W the neighbourhood size, X̄ and S the mean and deviation of x over
// the N cells. Cells with Gi* ≥ 1.65 are tested with Benjamini–Hochberg at
// a 5 % false discovery rate over every cell of the box (so noise does not
// make zones); survivors that touch (8-neighbours) form a zone. A zone's
// level comes from its highest z: 1.65 elevated, 1.96 high, 2.58 critical.
//
// # Heatmap
//
// Each cell's Σ w is spread over the output cells around it with the
// quartic kernel K(d) = (1 − (d/r)²)², r = 1.5 · max(cell_m, grid cell),
// normalised to keep the weight; intensity = weight / max weight.
//
// # Route safety
//
// The path is cut into segments of at most 500 m. A segment's D is Σ w of
// the cells within buffer_m of it over its corridor's area (2·buffer·length
// + π·buffer²), scored as above. The route scores the length-weighted mean
// of its segments, at most the worst segment + 30.
//
// # Analytics
//
// Trend: the window's count against the previous window of the same length
// (rising or falling past ±15 %). Time analysis: counts by UTC hour and
// weekday, the 3 busiest and quietest hours, the share between 20:00 and
// 06:00. Patterns, at day resolution: cells with 3 or more incidents; the
// near-repeat rate (incidents with another in the same or a neighbouring
// cell within the previous 14 days); the median gap between incidents.
// Comparison: density within the radius against within 5 km, and the
// network percentile. Prediction for 24 h: a steady Poisson rate μ has a
// decayed count μ·h/ln 2, so μ = (Σ 2^(−age/h)) · ln 2 / h; it is raised by
// 15 % per incident within 200 m in the last 14 days (at most doubled);
// P(≥1) = 1 − e^(−μ). Safe zones: the best-scoring 250 m spots within the
// radius whose surroundings (1 km) have history.
package threat
