package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// What the writer knows of a tenant's available responders never outlives
// what it was read from: a responder put on duty in this process, by
// another connection to the file, or brought back by a rolled-back
// savepoint is seen by the next queued create.
func TestAvailabilityFollowsTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sety.db")
	db, err := Open(ctx, path, &Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org := &auth.Organization{ID: testTenant.OrgID, Name: "Pool", Plan: auth.Enterprise, Status: auth.Active, CreatedAt: clock.At(testStart)}
	if err := db.AuthStore().CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	q := db.IncidentStore().(incident.QueueingStore)
	n := 0
	queue := func() error {
		n++
		inc, ev := testIncident(n, "")
		inc.Status = incident.Dispatching
		_, _, err := q.CreateQueued(ctx, inc, incident.Effects{Events: []outbox.Event{ev}}, 50_000)
		return err
	}
	here := geo.NewPoint(6.52, 3.38)
	rsp := &incident.Responder{ID: "rsp_1", OrgID: testTenant.OrgID, Environment: testTenant.Env, Name: "R",
		Location: here, Status: incident.Available, UpdatedAt: clock.At(testStart)}
	put := func(h *DB, status incident.ResponderStatus) {
		t.Helper()
		if _, err := h.ResponderStore().UpdateResponder(ctx, testTenant, rsp.ID, func(r *incident.Responder, _ bool) error {
			*r = *rsp
			r.Status = status
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(what string) {
		t.Helper()
		if err := queue(); err != nil {
			t.Fatalf("%s: %v, want the incident queued", what, err)
		}
	}
	refused := func(what string) {
		t.Helper()
		if err := queue(); !errors.Is(err, incident.ErrResponderAvailable) {
			t.Fatalf("%s: %v, want ErrResponderAvailable", what, err)
		}
	}

	stored("an empty pool")
	stored("an empty pool, known")
	put(db, incident.Available)
	refused("a responder put on duty in this process")
	put(db, incident.Busy)
	stored("the responder busy")

	// Another connection to the file (as another process would).
	other, err := Open(ctx, path, &Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	put(other, incident.Available)
	refused("a responder put on duty through another connection")
	put(other, incident.Busy)
	stored("the responder busy again")

	// A savepoint that makes the pool empty, learns so, and is rolled back.
	put(db, incident.Available)
	refused("the responder on duty")
	errUndo := errors.New("undo")
	err = db.inTx(ctx, func(tx *writeTx) error {
		r := *rsp
		r.Status = incident.Busy
		rid, _, err := getResponder(ctx, tx, testTenant, rsp.ID)
		if err != nil {
			return err
		}
		if err := putResponder(ctx, tx, rid, &r); err != nil {
			return err
		}
		if some, err := tx.available.hasAvailable(ctx, tx, testTenant); err != nil || some {
			t.Errorf("inside the savepoint: some %v, %v; want none", some, err)
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		t.Fatal(err)
	}
	refused("the responder back on duty after the rollback")
}
