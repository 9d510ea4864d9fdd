package sqlite

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/incident"
)

// explain returns the lines of SQLite's plan of query.
func explain(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// fullScan matches a plan line that reads a table of incidents or events
// row by row, through no index.
var fullScan = regexp.MustCompile(`^SCAN (incidents|outbox_events|i|e|b|n|incident_counts)$`)

// Every list, filter and engine query reads an index, the one named (the
// indexes a create writes are only those these queries need:
// migrations/*_lighter_create.sql): none scans the incidents or the events.
func TestQueriesUseIndexes(t *testing.T) {
	db := openTest(t)
	tenant := testTenant
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	type plan struct {
		name  string
		query string
		args  []any
		index string // a plan line names it
	}
	var plans []plan
	lists := []struct {
		name  string
		f     incident.Filter
		index string
	}{
		{"list", incident.Filter{}, "incidents_tenant_created"},
		{"list by category and severity", incident.Filter{Categories: []incident.Category{incident.Medical}, Severities: []incident.Severity{incident.High}}, "incidents_tenant_created"},
		{"list of dispatching", incident.Filter{Statuses: []incident.Status{incident.Dispatching}}, "incidents_tenant_active"},
		{"list of resolved", incident.Filter{Statuses: []incident.Status{incident.Resolved}}, "incidents_tenant_created"},
		{"list of active statuses", incident.Filter{Statuses: []incident.Status{incident.Assigned, incident.Responding, incident.OnScene}}, "incidents_tenant_active"},
		{"list of dispatching and resolved", incident.Filter{Statuses: []incident.Status{incident.Dispatching, incident.Resolved}}, "incidents_tenant_active"},
		{"list of a month", incident.Filter{From: from, To: to}, "incidents_tenant_created"},
		{"list of a month's dispatching", incident.Filter{From: from, To: to, Statuses: []incident.Status{incident.Dispatching}}, "incidents_tenant_active"},
		{"list of a month's cancelled medical", incident.Filter{From: from, Statuses: []incident.Status{incident.Cancelled}, Categories: []incident.Category{incident.Medical}}, "incidents_tenant_created"},
	}
	for _, l := range lists {
		q := incidentList(tenant, l.f)
		page, args := q.Page(20, 20)
		plans = append(plans, plan{l.name + ": page", page, args, l.index})
		count, args := q.Count()
		index := "incident_counts"
		if !l.f.From.IsZero() || !l.f.To.IsZero() {
			index = "incidents_tenant_"
		}
		plans = append(plans, plan{l.name + ": total", count, args, index})
	}
	now := time.Now().UnixMilli()
	plans = append(plans,
		plan{"get", sqlstore.SelectIncident + sqlstore.ByTenantID, []any{"inc_1", tenant.OrgID, tenant.Env}, "sqlite_autoindex_incidents_1"},
		plan{"due incidents", sqlstore.SelectDue, []any{now, 100}, "incidents_due"},
		plan{"queue near a point", queuedNear, []any{tenant.OrgID, tenant.Env, 6.3, 6.5, 3.3, 3.5, 0, 0}, "incidents_queue"},
		plan{"queued tenants", queuedTenants, []any{100}, "incidents_queue"},
		plan{"active counts", activeCounts, nil, "incidents_tenant_active"},
		plan{"queued count", queuedCount, nil, "incidents_queue"},
		plan{"threat reports", threatReports, []any{now}, "incidents_tenant_created"},
		plan{"any available responder of a tenant", anyAvailable, []any{tenant.OrgID, tenant.Env}, "sqlite_autoindex_responders_1"},
		plan{"idempotency key", sqlstore.SelectIncident + ` WHERE org_id = ? AND environment = ? AND idempotency_key = ?`, []any{tenant.OrgID, tenant.Env, "k"}, "incidents_idempotency"},
		plan{"analytics", `SELECT count(*) FROM incidents WHERE org_id = ? AND environment = ? AND created_at >= ? AND created_at <= ?`,
			[]any{tenant.OrgID, tenant.Env, 0, now}, "incidents_tenant_created"},
		plan{"pending events", selectPending, []any{100}, "INTEGER PRIMARY KEY (rowid>?)"},
		plan{"pending events' envelopes of tenants with an endpoint", selectSubscribed, []any{100}, "INTEGER PRIMARY KEY (rowid>?)"},
		plan{"an event's tenant's endpoints", selectSubscribed, []any{100}, "webhook_endpoints_tenant"},
		plan{"the head (max of the key)", headPosition, nil, "SEARCH outbox_events"},
		plan{"publish the fanned-out events (one row)", publishUpTo, []any{100}, "outbox_fanout"},
		plan{"purge events published at insert", purgePublished, []any{now, 100}, "outbox_published"},
		plan{"purge fanned-out events", purgeFannedOut, []any{now, 100}, "INTEGER PRIMARY KEY (rowid<?)"},
		plan{"event by id", selectEvent + ` WHERE e.id = ?`, []any{"evt_1"}, "sqlite_autoindex_outbox_events_1"},
		plan{"events after a position", eventsAfter + orderedPage, []any{0, 100, "incident.", "incident.\uffff", 100, "", ""}, "INTEGER PRIMARY KEY"},
		plan{"a tenant's events after a position", tenantEventsAfter + orderedPage, []any{0, 100, "incident.", "incident.\uffff", 100, "live", tenant.OrgID}, "outbox_tenant"},
		plan{"a tenant's events of two types", tenantEventsAfter + in("e.type", 2, 8) + orderedPage,
			[]any{0, 100, "", "\uffff", 100, "live", tenant.OrgID, "incident.created", "incident.resolved"}, "outbox_tenant"},
	)
	for _, p := range plans {
		lines := explain(t, db, p.query, p.args...)
		text := strings.Join(lines, "\n")
		for _, line := range lines {
			if fullScan.MatchString(line) {
				t.Errorf("%s reads a table through no index:\n%s", p.name, text)
			}
		}
		// A list's page from one range of an index reads it in the list's
		// order (newest first, backwards through the ascending tenant
		// indexes), with no sort: the sort would read the whole range.
		if strings.HasSuffix(p.name, ": page") && !strings.Contains(text, "COMPOUND") && strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s sorts its rows:\n%s", p.name, text)
		}
		if !strings.Contains(text, p.index) {
			t.Errorf("%s does not read %s:\n%s", p.name, p.index, text)
		}
		if testing.Verbose() {
			fmt.Printf("%s:\n  %s\n", p.name, strings.ReplaceAll(text, "\n", "\n  "))
		}
	}
}
