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
// [Engine.Remove]); external reports come through [Engine.Add] too.
//
// It keeps every report compactly in a grid of square cells (250 m by
// default; cells are that many degrees of latitude wide, so narrower away
// from the equator). The side is 180° / half for an even whole number
// half (250 m gives 80,060, so cells of 250.0014 m), so the cells tile the
// globe exactly: columns −half … half−1 cover [−180°, 180°), rows
// −half/2 … half/2−1 cover [−90°, 90°), no cell straddles the
// antimeridian, and a report at 180° is kept at −180°. Each report takes
// 16 bytes — its position as float32 offsets in its cell (about 25 µm),
// its time to the second, category and severity — in time order, each
// with the running total of the decayed weight before it (8 bytes), plus
// per cell a directory of 16 times and totals and a dense array of times.
// Each cell also remembers where the default 90-day window starts among
// its records (made under the write lock when the cell changes, and for
// every cell when the window has moved an hour on): a query of that window
// reads the cell's start from its first 64 bytes, others search as
// before, and both find the same record. A danger-zone study weighs every
// cell of its lattice (ten thousand for a 30 km route's box), and that
// search was most of the study's time. Each row of cells also keeps, side
// by side, each cell's weight in the windows its memo answers and the
// first and last window start it answers (16 bytes a cell, made with the
// memo; the cell's newest record's time, less 90 days, is folded into the
// first, so a window of 90 days or more needs nothing else), and apart
// from them its count and newest record's time (8 bytes): a route's study
// reads the 16 bytes rather than the cells, a stream through memory that
// other work evicts from the cache less dearly than a 288-byte stride.
// When the records are packed (after a quarter of them changed), every
// row's columns, sums and counts are laid out in one array each, row after
// row, so a study's hundred rows are a few pages, not a few hundred.
// A million incidents take about 45 MB.
// An ingest in time order (or at most 16 records late) is an insert; older
// ones mark the cell to be sorted at the next query.
//
// # Exact at the edges, aggregate inside
//
// Every figure counts the incidents of its region exactly, as a scan of
// every incident would: a cell wholly inside a query's circle or corridor
// answers from its running totals, a cell across its edge incident by
// incident. A point test runs on a flat frame and, within a band around
// the edge (1 m + 0.5 % of a radius; 0.5 m + 0.2 % of a route segment's
// buffer and length, three times the frame's worst error below 70°), on
// the exact great-circle distance; above 70° of latitude always on the
// exact one.
// Tests compare every figure with a brute-force scan over random data,
// across the antimeridian and at the pole.
//
// # Weights
//
// An incident weighs w = s · 2^(−age / 30 days), s being its severity
// weight (low 1, medium 2, high 3, critical 5), its age counted from its
// own time. A window of `days` (1–365, default 90) counts the incidents
// from now − days to now (to the second). Decay is multiplicative, so the
// running totals hold s · 2^((t − ref)/h) for one reference instant ref
// (moved when it drifts 900 half-lives away) and a window's weight is the
// difference of two totals times 2^((ref − now)/h).
//
// # Safety score
//
// D = Σ w within the radius (default 500 m) / area in km². The reference
// distribution R is D around the centre of every populated cell, at 500 m
// over 90 days, rebuilt at most every 10 minutes (fixed in between, so
// adding an incident never raises a score). With F(D) the share of R below
// D (interpolated) and L(D) = min(1, ln(1 + D/median R) / ln(1 + 2·max R /
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
// # Boxes
//
// A box is minLng,minLat,maxLng,maxLat, its edges included; with
// minLng > maxLng it crosses the antimeridian, running east from minLng
// past ±180 to maxLng (as a GeoJSON bbox does). Zones and heatmaps study
// such a box as one area. Shapes that cross the antimeridian are cut there
// (RFC 7946 §3.1.9): a zone's polygon into two parts, one ending at 180
// and one starting at −180 (polygon_parts; polygon is the part holding
// the zone's centre).
//
// # Danger zones
//
// A zone search studies a lattice of grid cells: those of the box and a
// margin wide enough for every neighbourhood, counted eastward across the
// antimeridian (the lattice is the whole ring of columns when the margins
// would meet around the globe; rows stop at the poles). x_i = Σ w of the
// incidents in cell i. Getis-Ord Gi* with binary weights over the
// neighbourhood of i — the cells within 2 rows and k_y columns of it,
// itself included:
//
//	Gi* = (Σ_j x_j − X̄·W) / (S·√((N·W − W²)/(N − 1)))
//
// with W the neighbourhood's cells (fewer where the lattice's edge cuts
// it), X̄ and S the mean and deviation (divided by N) of x over the N cells
// of the lattice; 0 when W = N. The neighbourhood covers the same ground
// at every latitude: cells are narrower by cos φ, so
//
//	k_y = round((5 / cos φ − 1) / 2)
//
// for φ the middle latitude of row y, making its 2·k_y + 1 columns as near
// as a whole odd number comes to the width of 5 cells at the equator
// (about 1,250 m): 2 columns either side up to 36.9°, 3 up to 53.1°, 12 at
// 78° (a 5 × 5 neighbourhood there would be 1,250 m by 260 m). These are
// esda's Gi* z-scores (PySAL's G_Local with star and binary weights): they
// agree to 1e-13 on the lattices of testdata/esda_gistar.json, written by
// tools/esda.
//
// Levels are ArcGIS's Hot Spot Analysis bins with its false-discovery-rate
// correction: each cell of the box gets the two-sided p = erfc(|z| / √2),
// and for each confidence level — 90 % (q = 0.10), 95 % (q = 0.05), 99 %
// (q = 0.01) — Benjamini–Hochberg over the N_box cells of the box finds
// the largest k with p_(k) ≤ k·q / N_box and passes every cell with
// p ≤ p_(k). A cell is a hot spot (z > 0) or a cold spot (z < 0) at the
// highest level it passes. Hot cells that touch (8-neighbours, across the
// antimeridian too) form a zone: elevated when its strongest cell passes
// at 90 %, high at 95 %, critical at 99 %; min_level keeps zones of that
// level or stronger. Its z_score is its highest z, its centre the
// weight-weighted centre of its cells, its radius the distance from there
// to their farthest corner, its polygon the convex hull of its cells.
//
// A zone's incident_count, weight, by_category, dominant_category,
// last_incident_at and peak_hours cover the incidents of its cells and of
// their Gi* neighbourhoods, each cell once: the incidents its z-scores
// sum, so a zone significant because of incidents never reports none.
//
// Cold spots need busy surroundings: the lowest z a cell can have is
// −X̄·W / (S·√((N·W − W²)/(N − 1))), about −X̄·√W / S, which on sparse data
// (most cells empty, S well above X̄) never reaches −1.65. Where incidents
// are everywhere, cold spots whose centre has incidents within 1 km (so
// the quiet is known, not sea or empty land) lead the safe zones of danger
// analytics.
//
// The p-values rest on the normal law, which a neighbourhood's sum follows
// only roughly where incidents are sparse and their weights vary: there
// cells of pure noise pass more often than the levels say. With a uniform
// background alone (90 days, mixed severities), a 16 km box holds some
// zone in 19 of 20 worlds at 0.14 incidents a cell, 11 of 20 at 0.7, 3 of
// 20 at 2.8.
//
// # Heatmap
//
// Output cells of cell_m (in degrees of latitude, on both axes) run from
// the box's south-west corner and are cut at its east and north edges.
// Each incident of the box (and of a margin) is binned into the output
// cell that holds its own position; a cell's count, and total_incidents,
// are the incidents inside it and the box (its east and north edges
// belong to the last column and row). Each output cell's Σ w, the
// margin's included, is then spread over the output cells around it with
// the quartic kernel K(d) = (1 − (d/r)²)², r = 1.5 · max(cell_m, grid
// cell), normalised to keep the weight; intensity = weight / max weight.
// A cell's lng and lat are the centre of its part inside the box.
//
// # GeoJSON
//
// Danger zones, heatmaps and routes have a GeoJSON form (RFC 7946): a
// FeatureCollection of zones and heatmap cells as Polygons and route
// segments as LineStrings, each with its JSON fields as properties and the
// rest of the answer as foreign members; rings closed and counterclockwise;
// a shape across the antimeridian a MultiPolygon or MultiLineString of its
// parts. Over HTTP they answer it to Accept: application/geo+json.
//
// # Route safety
//
// A route has 2–500 points and is at most 500 km long. Each leg follows
// the great circle between its points (so across the antimeridian and
// past the poles it takes the short way) and is cut into equal segments of
// at most 500 m. A segment's D is Σ w of the incidents within buffer_m of
// it — the great-circle distance to the segment: across to its great
// circle where the foot falls between its ends, else to the nearer end —
// over its corridor's area (2·buffer·length + π·buffer²), scored as above.
// The segments are weighed together, in one sweep along the grid's rows:
// each populated cell near the route is read once (its window's bounds
// found once) and tested against every segment that may reach it, each
// segment deciding exactly as it would alone. A segment passes over a cell
// whose rectangle lies wholly beyond its buffer and band (measured to the
// segment's bounding box on its flat frame), and tests the others' records
// one by one, each record read once for all the segments across its cell.
// A cell is listed only for the segments that do not pass over it, and
// only when one does not: a diagonal segment's rows and columns hold
// cells wholly beyond its buffer (about half of a 30 km route's).
// The cells are listed first and their window's records read before any
// is weighed, so that the reads of many cells overlap when other work has
// taken them out of the caches.
// Within the band the exact test compares the sine of the buffer's angle
// (across to the great circle) or its squared chord (to an end) rather
// than the distance, so it takes no arcsine; within a billionth of the
// limit the distance decides, so the answer is the distance's.
// The route scores the length-weighted mean of its segments, at most the
// worst segment + 30. Its danger zones are those of the route's box padded
// by the buffer (one study across the antimeridian, as for a bbox across
// it) whose centre is within their radius and buffer_m of a segment, when
// the box has at most 256 × 256 cells. A zone whose cells' box is too far
// from every segment for that (by a bound from the box: see mayPass), or
// whose centre and radius, worked out before the rest, are, is not
// described at all, so the answer is the same.
//
// # Analytics
//
// Trend: the window's count against the previous window of the same length
// (rising or falling past ±15 %). Time analysis: counts by UTC hour and
// weekday, the 3 busiest and quietest hours, the share between 20:00 and
// 06:00. Patterns: cells with 3 or more incidents (at most 5: most
// incidents first, then south to north, west to east); the near-repeat rate
// (incidents with an earlier one in the same or a neighbouring cell at
// most 14 days before); the median gap between consecutive incidents.
// Comparison: density within the radius against within 5 km, and the
// network percentile. Safe zones (at most 3): the cold spots within the
// radius (see Danger zones), strongest first, then the best-scoring 250 m
// spots, each with history within 1 km.
//
// # Prediction
//
// The expected incidents within the radius in the next 24 hours. A steady
// Poisson rate μ a day leaves a decayed count S = Σ 2^(−age/h) = μ · E over
// a window of D days, E = (h / ln 2) · (1 − 2^(−D/h)) being its effective
// days. The place's rate is S / E shrunk towards its surroundings' μ₀ (the
// window's count within 5 km per day, scaled to the radius's area), as if
// the place had also seen 10 days at μ₀:
//
//	μ = (S + 10 · μ₀) / (E + 10)
//
// Near repeats add 0.03 a day for each incident within 200 m in the last 14
// days (weighted 1 − age/14 days) beyond the μ · 7 · (200 m / radius)² that
// μ itself puts there. Expected = μ + lift; P(≥1) = 1 − e^(−expected);
// levels at P ≥ 0.1 moderate, 0.4 high, 0.75 very high. Over a whole day
// the hour-of-day profile sums to 1, so it does not change a 24-hour
// forecast.
//
// The backtest (backtest_test.go; go test ./threat -run Prediction -v
// prints it) checks this against what happens next on a synthetic world
// with known rates: 144 places with log-normal background rates drifting
// over a year, 12 spots that switch on for 60 days, and near repeats (each
// incident brings Poisson(0.25) more within about 60 m, a few days later).
// At 30 cut-offs it predicts each place's next 24 hours and compares with
// the counts that follow, against the place's mean daily count over the
// year before: by Poisson deviance (the prediction must be lower) and by
// calibration (mean predicted against mean observed, by decile). The
// constants 10 days and 0.03 were set on one world (seed 1); the test runs
// on another (seed 2).
package threat
