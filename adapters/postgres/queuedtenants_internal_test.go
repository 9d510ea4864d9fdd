package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/pgtest"
)

// The dispatch sweep's look for tenants with a queue reads a row of the
// queue's index per tenant, not per queued incident: with 40 incidents
// queued for two tenants (and one of a test environment) it reads a few
// rows of incidents, and finds the two live tenants.
func TestQueuedTenantsReadsATenantsRowNotItsQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openWithOrg(t, pgtest.URL(t))
	other := addSecondOrg(t, db, "Other")
	for i := range 40 {
		inc, events := fixtureIncident(t, fmt.Sprintf("inc_q%015d", i))
		switch {
		case i%2 == 1:
			inc.OrgID, events[0].OrgID = other.OrgID, other.OrgID
		case i == 0:
			inc.Environment, events[0].Environment = auth.Test, string(auth.Test)
		}
		if _, _, err := db.IncidentStore().CreateIncident(ctx, inc, incident.Effects{Events: events[:1]}); err != nil {
			t.Fatal(err)
		}
	}
	tenants, err := db.IncidentStore().QueuedTenants(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []auth.Tenant{fixtureTenant, other}; !slices.Equal(tenants, want) {
		t.Fatalf("queued tenants %v, want %v", tenants, want)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE incidents`); err != nil {
		t.Fatal(err)
	}
	var plan []struct{ Plan planNode }
	var raw []byte
	if err := db.pool.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+queuedTenants, 10).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	if read := plan[0].Plan.rowsOf("incidents"); read > 6 {
		t.Errorf("%v rows of incidents read for 3 tenants' queues of 40 incidents; want one a tenant and the end's look\n%s", read, raw)
	}
}

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON)'s plan.
type planNode struct {
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

// rowsOf is how many rows the nodes scanning relation returned, over all
// their loops.
func (n planNode) rowsOf(relation string) float64 {
	var rows float64
	if n.Relation == relation {
		rows += n.Rows * n.Loops
	}
	for _, c := range n.Plans {
		rows += c.rowsOf(relation)
	}
	return rows
}
