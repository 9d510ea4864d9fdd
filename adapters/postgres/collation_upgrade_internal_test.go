package postgres

import (
	"context"
	"testing"

	"github.com/sety-io/sety/incident"
)

// A database of the release before byte-ordered keys (migration 29)
// upgrades with its rows where they were (the collation changes, the text
// does not: no table is rewritten, only indexes), its incidents found by
// key and counted, and the count trigger it drops and makes again for the
// change still counting an update's new status.
func TestUpgradeToByteOrderKeysKeepsRowsAndCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := databaseAt(t, 28)
	tenant := fixtureTenant
	seedOldIncidents(t, pool, tenant, 5, incident.Created)
	filenode := func(relation string) (n int64) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT pg_relation_filenode($1)::bigint`, relation).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	table, index := filenode("incidents"), filenode("incidents_pkey")

	db, err := New(ctx, pool) // migrates to the last version
	if err != nil {
		t.Fatal(err)
	}
	if got := filenode("incidents"); got != table {
		t.Errorf("incidents' file %d after the upgrade, %d before: the table was rewritten", got, table)
	}
	if got := filenode("incidents_pkey"); got == index {
		t.Errorf("incidents_pkey's file unchanged (%d): its collation did not change", got)
	}
	st := db.IncidentStore()
	if inc, err := st.GetIncident(ctx, tenant, "inc_0000000000000003"); err != nil || inc.Title != "Old" {
		t.Fatalf("GetIncident after the upgrade: %+v, %v", inc, err)
	}
	total := func(status incident.Status) int {
		t.Helper()
		_, n, err := st.ListIncidents(ctx, tenant, incident.Filter{Statuses: []incident.Status{status}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := pool.Exec(ctx, `UPDATE incidents SET status = 'cancelled' WHERE id = 'inc_0000000000000001'`); err != nil {
		t.Fatal(err)
	}
	if c, x := total(incident.Created), total(incident.Cancelled); c != 4 || x != 1 {
		t.Fatalf("after an update: %d created, %d cancelled; want 4 and 1", c, x)
	}
}
