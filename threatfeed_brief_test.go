package sety

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/cputime"
	"github.com/sety-io/sety/internal/pgtest"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

// On PostgreSQL, the feed reads another instance's creates as briefs
// (outbox.Filter.Brief), typed: each reads as exactly what the create's
// full snapshot decodes to (report, drill, whether it counts), no JSON;
// a cancel's data is read in full, as it was written. A feed that follows
// the log from the start, reading only briefs and cancels, ends with the
// engine a load from the store gives.
func TestThreatFeedBriefsDecodeAsTheSnapshots(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	ctx := context.Background()
	st, live := postgresWithOrg(t)
	svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore()})
	var mistaken *incident.Incident
	for i, req := range []incident.CreateIncidentRequest{
		{Category: incident.Vehicle, Severity: incident.High, Location: incident.Location{Coordinates: geo.NewPoint(6.4541234567891, 3.3947654321)}},
		{Category: incident.SOS, Location: incident.Location{Coordinates: geo.NewPoint(-33.8688197, 151.2092955)},
			Description: "a long description that the snapshot carries and the brief does not"},
		{Category: incident.Medical, IsDrill: true, Location: incident.Location{Coordinates: geo.NewPoint(51.5072, -0.1276)}},
		{Category: incident.LocationThreat, Severity: incident.Critical, Location: incident.Location{Coordinates: geo.NewPoint(-89.9999, -179.9999)}},
	} {
		inc, _, err := svc.Create(ctx, live, req)
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		mistaken = inc
	}
	if _, err := svc.Cancel(ctx, live, mistaken.ID, incident.CancelIncidentRequest{Reason: "prank", ReasonCode: incident.CancelFalseAlarm}); err != nil {
		t.Fatal(err)
	}

	full := threatEvents
	full.Envelopes = false
	brief := full
	brief.Brief = true
	want, _, err := st.EventLog().EventsAfter(ctx, 0, full, 100)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := st.EventLog().EventsAfter(ctx, 0, brief, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || len(want) != 5 {
		t.Fatalf("%d events read with briefs, %d in full; want 5 (4 creates, a cancel)", len(got), len(want))
	}
	for i, ev := range got {
		w := want[i]
		if ev.ID != w.ID || ev.Position != w.Position || ev.Type != w.Type || ev.Sequence != w.Sequence || !ev.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("event %d read with briefs %+v, in full %+v", i, ev, w)
		}
		if ev.Type != incident.TypeCreated {
			if !bytes.Equal(ev.Data, w.Data) {
				t.Errorf("%s: data %s, want it in full: %s", ev.Type, ev.Data, w.Data)
			}
			continue
		}
		if ev.Brief == nil || ev.Data != nil {
			t.Errorf("create %d: brief %+v, data %s; want a brief and no data", i, ev.Brief, ev.Data)
		}
		b, okB := briefIncident(ev)
		s, okS := decodeIncident(w)
		if !okB || !okS || !sameReport(threatReport(b), threatReport(s)) || b.CountsAsThreat() != s.CountsAsThreat() || b.IsDrill != s.IsDrill {
			t.Errorf("create %d: brief %+v reads as %+v (counts %v), snapshot as %+v (counts %v)", i, ev.Brief,
				threatReport(b), b.CountsAsThreat(), threatReport(s), s.CountsAsThreat())
		}
	}

	// By subject (outbox.Briefer), from the incidents alone, the same
	// briefs; a subject the store does not hold is left out.
	subjects := []string{"inc_0000000000000000"}
	for _, ev := range got {
		if ev.Type == incident.TypeCreated {
			subjects = append(subjects, ev.SubjectID)
		}
	}
	briefs, err := st.EventLog().(outbox.Briefer).Briefs(ctx, subjects)
	if err != nil {
		t.Fatal(err)
	}
	if len(briefs) != 4 {
		t.Errorf("%d briefs by subject, want 4 (the creates')", len(briefs))
	}
	for _, ev := range got {
		if b, ok := briefs[ev.SubjectID]; ev.Type == incident.TypeCreated && ev.Brief != nil &&
			(!ok || b.Category != ev.Brief.Category || b.Severity != ev.Brief.Severity || b.Location != ev.Brief.Location ||
				b.IsDrill != ev.Brief.IsDrill || !b.CreatedAt.Equal(ev.Brief.CreatedAt)) {
			t.Errorf("%s: brief by subject %+v (found %v), from the log %+v", ev.SubjectID, b, ok, *ev.Brief)
		}
	}

	// Every event another instance's: the feed reads all of them with
	// their data (briefs for the creates) and ends as a load does.
	followed := threat.NewEngine(threat.Config{})
	f := newThreatFollower(followed, st.EventLog())
	if more, err := f.catchUp(ctx); more || err != nil {
		t.Fatalf("catch-up: %v, %v", more, err)
	}
	loaded := threat.NewEngine(threat.Config{})
	if _, err := loaded.Load(ctx, st.ThreatSource()); err != nil {
		t.Fatal(err)
	}
	if followed.Len() != 2 || loaded.Len() != 2 {
		t.Errorf("%d reports followed, %d loaded; want 2 (a drill and a false alarm do not count)", followed.Len(), loaded.Len())
	}
}

func sameReport(a, b threat.Report) bool {
	return a.At.Equal(b.At) && a.Location == b.Location && a.Category == b.Category && a.Severity == b.Severity
}

// BenchmarkThreatFeedDataRead is the feed's second read of a catch-up on
// PostgreSQL for a page of 200 creates of another instance, each create
// read as apply reads it: their full snapshots against their briefs.
//
//	go test . -run '^$' -bench ThreatFeedDataRead -cpu 1 -count 5
func BenchmarkThreatFeedDataRead(b *testing.B) {
	ctx := context.Background()
	st, live := postgresWithOrg(b)
	svc := incident.NewService(st.IncidentStore(), incident.Config{Responders: st.ResponderStore()})
	const page = 200
	for i := range page {
		// The create bench/pgscale sends.
		if _, _, err := svc.Create(ctx, live, incident.CreateIncidentRequest{Category: incident.SOS, Severity: incident.Low,
			Location:    incident.Location{Coordinates: geo.NewPoint(6.45+float64(i)/1000, 3.39)},
			Description: "Rider pressed the panic button twice; driver not answering."}); err != nil {
			b.Fatal(err)
		}
	}
	head, err := st.EventLog().Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, brief := range []bool{false, true} {
		name := "full"
		if brief {
			name = "brief"
		}
		b.Run(name, func(b *testing.B) {
			f := threatEvents
			f.Envelopes, f.Brief, f.Types, f.Through = false, brief, []string{incident.TypeCreated}, head
			cpu := cputime.Process()
			for b.Loop() {
				events, _, err := st.EventLog().EventsAfter(ctx, 0, f, followBatch)
				if err != nil || len(events) != page {
					b.Fatalf("%d events, %v", len(events), err)
				}
				for _, ev := range events {
					if _, ok := briefIncident(ev); ok {
						continue
					}
					if _, ok := decodeIncident(ev); !ok {
						b.Fatal("not decoded")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*page)/1000, "µs/create")
			// Go's CPU alone (PostgreSQL's is another process's): what a
			// second server's feed costs the server.
			b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N*page)/1000, "cpu-µs/create")
		})
	}
	// The same creates' briefs by subject (outbox.Briefer), as the feed
	// reads them since: the incidents alone, one statement.
	b.Run("by-subject", func(b *testing.B) {
		events, _, err := st.EventLog().EventsAfter(ctx, 0, threatEvents, followBatch)
		if err != nil || len(events) != page {
			b.Fatalf("%d events, %v", len(events), err)
		}
		subjects := make([]string, len(events))
		for i, ev := range events {
			subjects[i] = ev.SubjectID
		}
		cpu := cputime.Process()
		for b.Loop() {
			briefs, err := st.EventLog().(outbox.Briefer).Briefs(ctx, subjects)
			if err != nil || len(briefs) != page {
				b.Fatalf("%d briefs, %v", len(briefs), err)
			}
			for _, ev := range events {
				brief := briefs[ev.SubjectID]
				ev.Brief = &brief
				if _, ok := briefIncident(ev); !ok {
					b.Fatal("not read")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*page)/1000, "µs/create")
		b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N*page)/1000, "cpu-µs/create")
	})
}

// postgresWithOrg opens a fresh PostgreSQL database, closed when tb ends,
// holding one organization, and returns its live tenant.
func postgresWithOrg(tb testing.TB) (*postgres.DB, auth.Tenant) {
	tb.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	live := auth.Tenant{OrgID: "org_0000000000000001", Env: auth.Live}
	if err := st.AuthStore().CreateOrganization(ctx, &auth.Organization{ID: live.OrgID, Name: "Acme", Plan: auth.Growth,
		Status: auth.Active, CreatedAt: clock.At(time.Now())}); err != nil {
		tb.Fatal(err)
	}
	return st, live
}
