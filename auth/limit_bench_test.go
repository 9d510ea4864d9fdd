package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/cputime"
)

// BenchmarkAuthenticateAndLimit is what the HTTP middleware asks of the
// service per request: authenticate a key (from the key cache) and take a
// slot of its tenant's rate limit (from its lease), over 1,000
// enterprise organizations' keys in turn, on the system clock, so that
// the cache's and the limiter's entries are as many as a server's with
// that many tenants:
//
//	go test ./auth -run '^$' -bench AuthenticateAndLimit -cpu 1 -benchtime 200000x
func BenchmarkAuthenticateAndLimit(b *testing.B) {
	ctx := context.Background()
	svc := auth.NewService(memory.New().AuthStore(), auth.Config{Now: time.Now,
		Limiter: auth.NewLeaseLimiter(auth.NewMemoryLeases(), auth.LeaseConfig{})})
	var keys []string
	for i := range 1000 {
		org, err := svc.CreateOrganization(ctx, fmt.Sprint("Org ", i), auth.Enterprise)
		if err != nil {
			b.Fatal(err)
		}
		_, secret, err := svc.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Live}, auth.KeySpec{Name: "k", Scopes: []auth.Scope{auth.All}})
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, secret)
	}
	var p auth.Principal
	i, cpu := 0, cputime.Process()
	for b.Loop() {
		if err := svc.AuthenticateInto(ctx, keys[i%len(keys)], &p); err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := svc.Limit(ctx, &p); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
