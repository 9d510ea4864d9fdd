// Command tenants seeds a Sety database with organizations for the
// benchmarks, before a server starts on it: each on the enterprise plan,
// with one live key holding every scope and one incident, cancelled (so
// that no SLA clock runs: the server has no background work while it is
// measured). It prints one line per organization, "KEY INCIDENT_ID", for a
// load tool's targets.
//
//	go run ./bench/tenants -n 1000 -db /tmp/sety.db
//	go run ./bench/tenants -n 1000 -database-url postgres://...
//
// It uses only the library's public API, so bench/limits.sh builds it from
// the revision it compares with too, against that revision's schema.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/postgres"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
)

func main() {
	n := flag.Int("n", 100, "organizations to add")
	dbPath := flag.String("db", "", "SQLite database file")
	url := flag.String("database-url", "", "PostgreSQL URL (instead of -db)")
	flag.Parse()
	if err := seed(context.Background(), *n, *dbPath, *url); err != nil {
		fmt.Fprintln(os.Stderr, "tenants:", err)
		os.Exit(1)
	}
}

func seed(ctx context.Context, n int, dbPath, url string) error {
	var stores sety.Stores
	switch {
	case url != "":
		db, err := postgres.Open(ctx, url)
		if err != nil {
			return err
		}
		defer db.Close()
		stores = db
	case dbPath != "":
		db, err := sqlite.Open(ctx, dbPath, nil)
		if err != nil {
			return err
		}
		defer db.Close()
		stores = db
	default:
		return fmt.Errorf("give -db or -database-url")
	}
	s, err := sety.New(stores, sety.WithRateLimiter(nil))
	if err != nil {
		return err
	}
	lines := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32) // concurrent, so SQLite's writer commits them in groups
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			lines[i], errs[i] = tenant(ctx, s, i)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			return errs[i]
		}
		fmt.Println(lines[i])
	}
	return nil
}

// tenant adds organization i and returns its key and incident.
func tenant(ctx context.Context, s *sety.Sety, i int) (string, error) {
	org, err := s.Auth.CreateOrganization(ctx, fmt.Sprintf("Bench %d", i), auth.Enterprise)
	if err != nil {
		return "", err
	}
	t := auth.Tenant{OrgID: org.ID, Env: auth.Live}
	_, key, err := s.Auth.IssueKey(ctx, t, auth.KeySpec{Name: "bench", Scopes: []auth.Scope{auth.All}})
	if err != nil {
		return "", err
	}
	inc, _, err := s.Incidents.Create(ctx, t, incident.CreateIncidentRequest{
		Category: incident.Vehicle, Title: "Vehicle emergency reported by rider",
		Location: incident.Location{Coordinates: geo.Point{3.4219 + float64(i%100)*0.001, 6.4281 + float64(i/100)*0.001},
			Address: "22 Adeola Odeku Street, Victoria Island, Lagos"},
	})
	if err != nil {
		return "", err
	}
	if _, err := s.Incidents.Cancel(ctx, t, inc.ID, incident.CancelIncidentRequest{ReasonCode: incident.CancelOther}); err != nil {
		return "", err
	}
	return key + " " + inc.ID, nil
}
