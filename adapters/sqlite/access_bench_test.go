package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/adapters/internal/sqlstore"
	"github.com/sety-io/sety/clock"
)

// BenchmarkLogStats measures access log stats over 1,000,000 visits (a year
// across 20 sites, most checked out) for a 30-day window and for the year,
// of one site and of all:
//
//	go test ./adapters/sqlite -run '^$' -bench LogStats -benchtime 20x
func BenchmarkLogStats(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	db, tenant := benchDB(b)
	end := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	start := end.Add(-365 * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	began := time.Now()
	err := db.inTx(ctx, func(tx *writeTx) error {
		for i := range n {
			in := start.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Millisecond)
			l := &access.AccessLog{
				ID: fmt.Sprintf("log_%016d", i), Site: fmt.Sprintf("site-%02d", i%20), Visitor: access.Visitor{Name: "Visitor"},
				Method: []string{access.MethodCode, access.MethodManual}[i%2], Status: access.CheckedIn, CheckedInAt: clock.At(in),
				ExpectedUntil: clock.At(in.Add(2 * time.Hour)), CreatedAt: clock.At(in), UpdatedAt: clock.At(in),
				OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1,
			}
			if i%50 != 0 {
				d := rng.Int64N(4 * 3600)
				l.Status, l.CheckedOutAt, l.DurationSeconds = access.CheckedOut, clock.At(in.Add(time.Duration(d)*time.Second)), &d
			}
			if err := sqlstore.InsertLog(tx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d logs in %v", n, time.Since(began).Round(time.Millisecond))
	st := db.AccessStore()
	for _, c := range []struct {
		name string
		site string
		from time.Time
	}{
		{"site/30d", "site-07", end.Add(-30 * 24 * time.Hour)},
		{"site/365d", "site-07", start},
		{"all/30d", "", end.Add(-30 * 24 * time.Hour)},
		{"all/365d", "", start},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				s, err := st.LogStats(ctx, tenant, c.site, c.from, end, end)
				if err != nil || s.TotalEntries == 0 {
					b.Fatal(s, err)
				}
			}
		})
	}
}
