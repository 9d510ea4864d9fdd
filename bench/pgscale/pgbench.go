package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sety-io/sety/adapters/postgres"
)

// pgbenchDatabase is the database pgbench writes into: not the servers'.
// In theirs, the pg-1 server's sequencer, fan-out and threat feed took
// up pgbench's tens of thousands of events (they have no log position)
// during pgbench's own measurement and the server's next one, which
// neither the SQLite server nor the base build's (a database of its own)
// paid.
const pgbenchDatabase = "sety_pgbench"

// preparePgbenchDatabase creates pgbenchDatabase with this build's schema
// and the organization of incident id (read from conn), whose creates the
// scripts repeat: the count deltas' trigger refuses an incident of an
// organization that does not exist.
func preparePgbenchDatabase(ctx context.Context, cluster interface {
	CreateDatabase(context.Context, string) error
	URL(string) string
}, conn *pgx.Conn, id string) error {
	var org string
	if err := conn.QueryRow(ctx, `SELECT row_to_json(o)::text FROM organizations o WHERE id = (SELECT org_id FROM incidents WHERE id = $1)`, id).Scan(&org); err != nil {
		return err
	}
	if err := cluster.CreateDatabase(ctx, pgbenchDatabase); err != nil {
		return err
	}
	url := cluster.URL(pgbenchDatabase)
	if err := postgres.Migrate(ctx, url); err != nil {
		return err
	}
	bench, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer bench.Close(ctx)
	_, err = bench.Exec(ctx, `INSERT INTO organizations SELECT * FROM json_populate_record(NULL::organizations, $1::json)`, org)
	return err
}

// pgbenchScripts are the variants of a create's writes pgbench runs, by
// name: what Sety's create writes now, and the same with what an earlier
// build added (the outbox lock every writer of events took, and the count
// row every create updated), to show what each cost.
var pgbenchScripts = []string{"create", "create+lock+count"}

// writePgbenchScripts writes, into dir, pgbench scripts of the writes of
// the create of incident id, as Sety sends them: one pipeline (one round
// trip, one implicit transaction) of the incident's insert and its
// events' insert (one statement), with the very values of that create (the
// incident's JSON document and its events' payloads) under new ids. The
// database's triggers (the count deltas) run as for Sety.
func writePgbenchScripts(ctx context.Context, conn *pgx.Conn, dir, id string) error {
	var cols []string
	var vals []any
	rows, err := conn.Query(ctx, `SELECT * FROM incidents WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if !rows.Next() {
		rows.Close()
		return fmt.Errorf("incident %s not found", id)
	}
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	if vals, err = rows.Values(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	var incident strings.Builder
	fmt.Fprintf(&incident, "INSERT INTO incidents (%s) VALUES (", strings.Join(cols, ", "))
	for i, c := range cols {
		if i > 0 {
			incident.WriteString(", ")
		}
		switch c {
		case "id":
			incident.WriteString(`'inc_pgbench_' || :n`)
			continue
		case "due_at":
			// Not due ever: the servers' engines leave these incidents
			// alone (the template's SLA deadline would pass during the run).
			incident.WriteString("NULL")
			continue
		}
		incident.WriteString(literal(vals[i]))
	}
	incident.WriteString(");")

	events := `INSERT INTO outbox_events (id, org_id, environment, type, subject_id, sequence, data, created_at) VALUES `
	evRows, err := conn.Query(ctx, `SELECT org_id, environment, type, sequence, data, created_at FROM outbox_events WHERE subject_id = $1 ORDER BY sequence`, id)
	if err != nil {
		return err
	}
	var evs []string
	for evRows.Next() {
		v, err := evRows.Values()
		if err != nil {
			evRows.Close()
			return err
		}
		evs = append(evs, fmt.Sprintf(`('evt_pgbench_' || :n || '_%d', %s, %s, %s, 'inc_pgbench_' || :n, %s, %s, %s)`,
			len(evs)+1, literal(v[0]), literal(v[1]), literal(v[2]), literal(v[3]), literal(v[4]), literal(v[5])))
	}
	evRows.Close()
	if len(evs) == 0 {
		return fmt.Errorf("incident %s has no events", id)
	}
	events += strings.Join(evs, ", ") + ";"

	orgEnv := fmt.Sprintf("%s, %s", literal(vals[slices.Index(cols, "org_id")]), literal(vals[slices.Index(cols, "environment")]))
	scripts := map[string][]string{
		"create": {incident.String(), events},
		// The outbox lock, taken right before the events' insert; and the
		// count row of the tenant and the incident's kind, updated at the
		// end (the deferred trigger of migration 0010).
		"create+lock+count": {incident.String(), `SELECT pg_advisory_xact_lock(6000294819769876482);`, events,
			`INSERT INTO incident_counts AS c (org_id, environment, status, category, severity, n) VALUES (` + orgEnv +
				`, 'pgbench', 'pgbench', 'pgbench', 1) ON CONFLICT (org_id, environment, status, category, severity) DO UPDATE SET n = c.n + 1;`},
	}
	for name, body := range scripts {
		// No BEGIN and COMMIT: the pipeline up to its Sync (\endpipeline)
		// is one implicit transaction, as Sety's one-batch transactions are.
		text := "\\set n random(1, 9000000000000000000)\n\\startpipeline\n" + strings.Join(body, "\n") + "\n\\endpipeline\n"
		if err := os.WriteFile(filepath.Join(dir, name+".sql"), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// literal is v as an SQL literal. Strings are escape strings (E'...')
// whose colons are written \x3a: pgbench reads ":name" anywhere in a
// script as a variable, inside quotes too.
func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return quote(x.UTC().Format("2006-01-02 15:04:05.000Z07:00"))
	case int16, int32, int64, float32, float64:
		return fmt.Sprint(x)
	default:
		return quote(fmt.Sprint(x))
	}
}

var escaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`, `:`, `\x3a`)

func quote(s string) string { return "E'" + escaper.Replace(s) + "'" }

// pgbenchResult is one pgbench run.
type pgbenchResult struct {
	tps     float64
	latency float64 // average, ms
}

var (
	tpsRE     = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latencyRE = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

// runPgbench runs script with clients connections for d against the
// database at host/port/name.
func runPgbench(ctx context.Context, bin, script, host, port, name string, clients int, d time.Duration) (pgbenchResult, error) {
	cmd := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-f", script, "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(d.Seconds())), "-h", host, "-p", port, "-U", "postgres", name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	var r pgbenchResult
	if m := tpsRE.FindSubmatch(out); m != nil {
		r.tps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := latencyRE.FindSubmatch(out); m != nil {
		r.latency, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if r.tps == 0 {
		return r, fmt.Errorf("pgbench: no tps in its output:\n%s", out)
	}
	return r, nil
}
