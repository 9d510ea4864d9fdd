package threat

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/cputime"
	"github.com/sety-io/sety/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL cluster BenchmarkVersusPostGIS
// may start (no other test of the package starts one).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, nil)) }

// BenchmarkVersusPostGIS answers route safety (BenchmarkEngine's 30 km
// route, and the routes of BenchmarkRoutes in turn), safety scores and
// heatmaps over the million incidents of BenchmarkVersusBruteForce with
// the engine and with PostGIS on the same data, alternately in every
// iteration, and reports the p50 and p90 of each on the wall, the p50 of
// the CPU each takes (the engine's process; PostgreSQL's server process,
// when it runs on this machine) and the ratios of the p50s — one run, one
// machine, one load. A machine shared with other work stretches the wall
// times of the server (a separate process) far more than the engine's;
// the CPU times stay put:
//
//	go test ./threat -run '^$' -bench VersusPostGIS -cpu 1 -benchtime 300x
//
// PostGIS answers each twice: on a projected-metres column (UTM zone 31N,
// EPSG:32631) and on a geography column, each with a GiST index, by
// ST_DWithin (a route: one statement for all its segments, the same
// segments the engine cuts, each made once), the table clustered on the
// UTM index and JIT compiling off. It reads its own copy of the data on a
// throwaway cluster (internal/pgtest; SETY_TEST_DATABASE_URL points it at
// a server instead) and is skipped when PostGIS is not installed there
// (Debian: postgresql-15-postgis-3); loading and indexing take about a
// minute. Only the engine's answers are exact (see the exact tests): the
// geography query measures on the spheroid and the UTM one on the
// projection, so their counts differ a little; the route benchmarks
// report by how much (off-%).
func BenchmarkVersusPostGIS(b *testing.B) {
	rs, e := million()
	conn := postgisWith(b, rs)
	server := serverCPU(b, conn)
	ctx := context.Background()
	now := exactNow
	from := now.Add(-90 * 24 * time.Hour)
	halfSecs := e.cfg.HalfLife.Seconds()

	// versus times the engine and the two queries in turn, in a rotating
	// order so none always runs first: on the wall, and in CPU (the
	// engine's process; PostgreSQL's server process, when it runs here).
	versus := func(b *testing.B, sety func(i int), utm, geog func(i int) error) {
		runs := [3]func(i int) error{func(i int) error { sety(i); return nil }, utm, geog}
		var ts, cpu [3][]time.Duration
		i := 0
		for b.Loop() {
			for k := range 3 {
				r := (i + k) % 3
				used := cputime.Process
				if r > 0 {
					used = server
				}
				c0, start := used(), time.Now()
				if err := runs[r](i); err != nil {
					b.Fatal(err)
				}
				ts[r], cpu[r] = append(ts[r], time.Since(start)), append(cpu[r], used()-c0)
			}
			i++
		}
		var p50, c50 [3]float64
		for r, name := range []string{"sety", "utm", "geog"} {
			slices.Sort(ts[r])
			slices.Sort(cpu[r])
			p50[r] = float64(ts[r][len(ts[r])/2].Nanoseconds()) / 1e3
			c50[r] = float64(cpu[r][len(cpu[r])/2].Nanoseconds()) / 1e3
			b.ReportMetric(p50[r], name+"-p50-µs")
			b.ReportMetric(float64(ts[r][len(ts[r])*9/10].Nanoseconds())/1e3, name+"-p90-µs")
			b.ReportMetric(c50[r], name+"-cpu-p50-µs")
		}
		b.ReportMetric(p50[1]/p50[0], "utm-x")
		b.ReportMetric(p50[2]/p50[0], "geog-x")
		if c50[0] > 0 && c50[1] > 0 {
			b.ReportMetric(c50[1]/c50[0], "utm-cpu-x")
			b.ReportMetric(c50[2]/c50[0], "geog-cpu-x")
		}
	}

	route := func(b *testing.B, routes [][]geo.Point) {
		segs := make([][4][]float64, len(routes)) // the engine's segments: from lng, lat, to lng, lat
		var exact []int
		for i, path := range routes {
			r, err := e.Route(RouteQuery{Path: path})
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range r.Segments {
				for k, v := range []float64{s.From.Lng(), s.From.Lat(), s.To.Lng(), s.To.Lat()} {
					segs[i][k] = append(segs[i][k], v)
				}
				exact = append(exact, s.IncidentCount)
			}
		}
		query := func(column string) func(i int) ([]int, error) {
			seg := "ST_SetSRID(ST_MakeLine(ST_MakePoint(a, b), ST_MakePoint(c, d)), 4326)"
			if column == "g" {
				seg = "ST_Transform(" + seg + ", 32631)"
			} else {
				seg += "::geography"
			}
			sql := `WITH s AS MATERIALIZED (SELECT n, ` + seg + ` AS line
				FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY AS t(a, b, c, d, n))
				SELECT count(i.at), coalesce(sum(i.sev * power(2, extract(epoch FROM i.at - $6::timestamptz) / $7)), 0)
				FROM s LEFT JOIN incidents i ON ST_DWithin(i.` + column + `, s.line, 150) AND i.at BETWEEN $5 AND $6
				GROUP BY s.n ORDER BY s.n`
			return func(i int) ([]int, error) {
				sg := segs[i%len(routes)]
				rows, err := conn.Query(ctx, sql, sg[0], sg[1], sg[2], sg[3], from, now, halfSecs)
				if err != nil {
					return nil, err
				}
				var counts []int
				var n int
				var w float64
				_, err = pgx.ForEachRow(rows, []any{&n, &w}, func() error { counts = append(counts, n); return nil })
				return counts, err
			}
		}
		utm, geog := query("g"), query("geog")
		var off [2]float64
		for k, q := range []func(int) ([]int, error){utm, geog} {
			var got []int
			for i := range routes {
				c, err := q(i)
				if err != nil {
					b.Fatal(err)
				}
				got = append(got, c...)
			}
			off[k] = offPercent(got, exact)
		}
		defer func() { b.ReportMetric(off[0], "utm-off-%"); b.ReportMetric(off[1], "geog-off-%") }()
		versus(b, func(i int) {
			if _, err := e.Route(RouteQuery{Path: routes[i%len(routes)]}); err != nil {
				b.Fatal(err)
			}
		}, func(i int) error { _, err := utm(i); return err }, func(i int) error { _, err := geog(i); return err })
	}
	set := benchRoutes()
	b.Run("route-30km", func(b *testing.B) { route(b, set[:1]) })
	b.Run("routes", func(b *testing.B) { route(b, set) })

	b.Run("score", func(b *testing.B) {
		point := func(i int) geo.Point { return lagosAt(float64(i%41)/2-10, float64(i%37)/2-9) }
		query := func(column string) func(i int) error {
			at := "ST_SetSRID(ST_MakePoint($1, $2), 4326)"
			if column == "g" {
				at = "ST_Transform(" + at + ", 32631)"
			} else {
				at += "::geography"
			}
			sql := `WITH q AS MATERIALIZED (SELECT ` + at + ` AS p)
				SELECT count(*), coalesce(sum(sev * power(2, extract(epoch FROM at - $4::timestamptz) / $5)), 0)
				FROM q, incidents WHERE ST_DWithin(` + column + `, q.p, 500) AND at BETWEEN $3 AND $4`
			return func(i int) error {
				p := point(i)
				var n int
				var w float64
				return conn.QueryRow(ctx, sql, p.Lng(), p.Lat(), from, now, halfSecs).Scan(&n, &w)
			}
		}
		versus(b, func(i int) {
			if _, err := e.Score(ScoreQuery{Location: point(i)}); err != nil {
				b.Fatal(err)
			}
		}, query("g"), query("geog"))
	})

	// A 2 km box (a 20 km one took PostGIS over a second a query here).
	b.Run("heatmap-2km-250m", func(b *testing.B) {
		box := func(i int) Box {
			c := lagosAt(float64(i%9)-4, float64(i%7)-3)
			h := 1 / 111.195 // 1 km either way
			return Box{c.Lng() - h, c.Lat() - h, c.Lng() + h, c.Lat() + h}
		}
		deg := 250 / metersPerDegree
		query := func(column string) func(i int) error {
			env := "ST_MakeEnvelope($1, $2, $3, $4, 4326)"
			if column == "g" {
				env = "ST_Expand(ST_Transform(" + env + ", 32631), 100)" // its edges bow a little in UTM
			} else {
				env += "::geography"
			}
			sql := `WITH q AS MATERIALIZED (SELECT ` + env + ` AS box)
			SELECT floor((lng - $1) / $7)::int, floor((lat - $2) / $7)::int, count(*),
				sum(sev * power(2, extract(epoch FROM at - $6::timestamptz) / $8))
			FROM q, incidents WHERE ` + column + ` && q.box AND lng >= $1 AND lng < $3 AND lat >= $2 AND lat < $4
				AND at BETWEEN $5 AND $6 GROUP BY 1, 2`
			return func(i int) error {
				bx := box(i)
				rows, err := conn.Query(ctx, sql, bx.MinLng, bx.MinLat, bx.MaxLng, bx.MaxLat, from, now, deg, halfSecs)
				if err != nil {
					return err
				}
				var x, y, n int
				var w float64
				_, err = pgx.ForEachRow(rows, []any{&x, &y, &n, &w}, func() error { return nil })
				return err
			}
		}
		versus(b, func(i int) {
			if _, err := e.Heatmap(Query{}, box(i), 250); err != nil {
				b.Fatal(err)
			}
		}, query("g"), query("geog"))
	})
}

func offPercent(got, exact []int) float64 {
	off, total := 0, 0
	for i := range exact {
		if i < len(got) {
			off += abs(got[i] - exact[i])
		}
		total += exact[i]
	}
	return 100 * float64(off) / float64(max(total, 1))
}

// postgisWith returns a connection to a database holding reports in table
// incidents (at, lng, lat, sev: the severity weight; g: the position in
// UTM zone 31N; geog: as geography; a GiST index on each), or skips b
// when PostgreSQL or PostGIS is not there.
func postgisWith(b *testing.B, reports []Report) *pgx.Conn {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		b.Skipf("PostGIS is not installed on the test server (Debian: apt-get install postgresql-15-postgis-3): %v", err)
	}
	// JIT compiling costs about 10 ms a statement, more than a whole route
	// query: a server that answers queries like these turns it off.
	if _, err := conn.Exec(ctx, `SET jit = off`); err != nil {
		b.Fatal(err)
	}
	var version string
	if err := conn.QueryRow(ctx, `SELECT postgis_full_version()`).Scan(&version); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", strings.Fields(version)[1])
	loadPostGIS(b, conn, reports)
	return conn
}

// serverCPU returns a clock of the CPU time conn's server process has used
// (Linux's /proc/<pid>/schedstat, to the nanosecond), or one that stays at
// 0 when that process is not on this machine.
func serverCPU(b *testing.B, conn *pgx.Conn) func() time.Duration {
	var pid int
	if err := conn.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || !strings.Contains(string(cmd), "postgres") {
		return func() time.Duration { return 0 }
	}
	stat := fmt.Sprintf("/proc/%d/schedstat", pid)
	return func() time.Duration {
		text, err := os.ReadFile(stat)
		if err != nil {
			b.Fatal(err)
		}
		ns, err := strconv.ParseInt(strings.Fields(string(text))[0], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		return time.Duration(ns)
	}
}

// loadPostGIS creates table incidents with reports (see postgisWith).
func loadPostGIS(b testing.TB, conn *pgx.Conn, reports []Report) {
	ctx := context.Background()
	start := time.Now()
	if _, err := conn.Exec(ctx, `CREATE UNLOGGED TABLE staging (at timestamptz, lng float8, lat float8, sev float8)`); err != nil {
		b.Fatal(err)
	}
	// In time order, as a table of incidents fills.
	sorted := slices.SortedFunc(slices.Values(reports), func(a, b Report) int { return a.At.Compare(b.At) })
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"staging"}, []string{"at", "lng", "lat", "sev"},
		pgx.CopyFromSlice(len(sorted), func(i int) ([]any, error) {
			r := sorted[i]
			return []any{r.At, r.Location.Lng(), r.Location.Lat(), r.Severity.Weight()}, nil
		})); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{
		`CREATE TABLE incidents AS SELECT at, lng, lat, sev,
			ST_Transform(ST_SetSRID(ST_MakePoint(lng, lat), 4326), 32631)::geometry(Point, 32631) AS g,
			ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography(Point, 4326) AS geog
			FROM staging`,
		`DROP TABLE staging`,
		`CREATE INDEX incidents_g ON incidents USING gist (g)`,
		`CREATE INDEX incidents_geog ON incidents USING gist (geog)`,
		`CLUSTER incidents USING incidents_g`, // neighbours share pages
		`VACUUM ANALYZE incidents`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	b.Logf("%d incidents loaded into PostGIS and indexed in %v", len(reports), time.Since(start).Round(time.Second))
}
