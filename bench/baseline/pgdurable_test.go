package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/pgtest"
)

// TestPGStoreTwoInstances: two durable baselines opened at once on one
// empty database, with one and two groups in flight, both start (the
// schema is created once), and creates
// sent concurrently through both are each committed once, with their
// event, readable from either, and counted in the groups that carried
// them.
func TestPGStoreTwoInstances(t *testing.T) {
	ctx := context.Background()
	_, url := pgtest.NewCluster(t, pgtest.Options{})
	stores := make([]*pgStore, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = openPG(ctx, url, 1+i) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}

	const n = 200
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	incs := make([]*incident, n)
	for i := range incs {
		req := createRequest{Category: "sos", Title: fmt.Sprint("create ", i)}
		req.Location.Coordinates = []float64{3.4, 6.4}
		inc, err := newIncident(req, now)
		if err != nil {
			t.Fatal(err)
		}
		incs[i] = inc
		wg.Go(func() {
			if err := stores[i%2].create(ctx, inc, now); err != nil {
				t.Errorf("create %d: %v", i, err)
			}
		})
	}
	wg.Wait()

	var groups, creates int64
	for _, s := range stores {
		g, c, _ := s.stats()
		groups, creates = groups+g, creates+c
	}
	if creates != n || groups < 2 || groups > n {
		t.Errorf("stats: %d groups carrying %d creates; want %d creates in 2 to %d groups", groups, creates, n, n)
	}
	for i, inc := range incs {
		doc, _, _, err := rowsOf(inc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := stores[(i+1)%2].get(ctx, inc.ID)
		if err != nil || string(got) != string(doc) {
			t.Fatalf("get %s from the other instance = %q, %v; want %q", inc.ID, got, err, doc)
		}
	}
	var events, distinct int
	if err := stores[0].pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT subject_id) FROM events`).Scan(&events, &distinct); err != nil {
		t.Fatal(err)
	}
	if events != n || distinct != n {
		t.Errorf("%d events of %d incidents; want one event of each of %d", events, distinct, n)
	}
	if missing, err := stores[0].get(ctx, "inc_none"); err != nil || missing != nil {
		t.Errorf("get of an unknown id = %q, %v; want nil, nil", missing, err)
	}
}
