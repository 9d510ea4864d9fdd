package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
)

// testEncodedJSON checks a store handed the incident's JSON with a change
// (incident.Effects.Encoded): whether it keeps those bytes or encodes the
// incident itself, a read gives the incident back as it was changed, text
// that JSON may escape included; and a change that tries to move or rekey
// the incident, handing JSON that shows it, leaves its identity as it was.
func testEncodedJSON(t *testing.T, newStores NewStores) {
	t.Parallel()
	ctx := context.Background()
	st := newStores(t).IncidentStore()
	inc := newIncident(t, tenantA, base)
	inc.Title = `<b>Rider</b> & "driver" — Ọlá` + "\u2028"
	inc.IdempotencyKey = ptr("trip_<&>")
	inc.Subject.Metadata["<k>"] = "&v"
	encode := func(inc *incident.Incident) []byte {
		doc, err := incident.Encode(inc)
		must(t, err)
		return doc
	}
	want := inc.Clone()
	_, created, err := st.CreateIncident(ctx, inc, incident.Effects{Events: []outbox.Event{eventFor(t, incident.TypeCreated, inc)}, Encoded: encode(inc)})
	must(t, err)
	if !created {
		t.Fatal("created = false")
	}
	got, err := st.GetIncident(ctx, tenantA, inc.ID)
	must(t, err)
	sameJSON(t, "created with its JSON", got, want)

	later := clock.At(base.Add(time.Minute))
	changed, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.Description = ptr("<script>alert(1)</script> & ☎")
		cur.UpdatedAt = later
		cur.Sequence++
		return incident.Effects{Events: []outbox.Event{eventFor(t, incident.TypeNoteAdded, cur)}, Encoded: encode(cur)}, nil
	})
	must(t, err)
	got, err = st.GetIncident(ctx, tenantA, inc.ID)
	must(t, err)
	sameJSON(t, "changed with its JSON", got, changed)
	if *got.Description != "<script>alert(1)</script> & ☎" {
		t.Fatalf("description %q", *got.Description)
	}

	rekeyed, err := st.UpdateIncident(ctx, tenantA, inc.ID, func(cur *incident.Incident) (incident.Effects, error) {
		cur.IdempotencyKey = ptr("another")
		cur.ID = "inc_zzzzzzzzzzzzzzzz"
		cur.Sequence++
		return incident.Effects{Events: []outbox.Event{eventFor(t, incident.TypeNoteAdded, cur)}, Encoded: encode(cur)}, nil
	})
	must(t, err)
	got, err = st.GetIncident(ctx, tenantA, inc.ID)
	must(t, err)
	sameJSON(t, "after a change that tried to rekey", got, rekeyed)
	if got.ID != inc.ID || got.IdempotencyKey == nil || *got.IdempotencyKey != "trip_<&>" {
		t.Fatalf("identity after a rekeying change: %s %v", got.ID, got.IdempotencyKey)
	}
}
