package sety_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
)

// settingContext is a host's wrapper of huma's context that watches the
// headers set through it.
type settingContext struct {
	hostContext
	set *[]string
}

type hostContext = huma.Context // embedded under another name: huma.Context has a Context method

func (c settingContext) SetHeader(name, value string) {
	*c.set = append(*c.set, name)
	c.hostContext.SetHeader(name, value)
}

// A host middleware that wraps the request's context sees Sety set the
// rate-limit headers through its wrapper (Sety writes them straight into
// the response's header map only when the context is the router
// adapter's own), and Sety's handlers still find the principal under the
// host's context values.
func TestRateLimitHeadersGoThroughTheHostsWrapper(t *testing.T) {
	type hostKey struct{}
	for _, wrap := range []string{"none", "setter", "value"} {
		t.Run(wrap, func(t *testing.T) {
			mux := http.NewServeMux()
			api := humago.New(mux, huma.DefaultConfig("Host", "1.0.0"))
			var set []string
			api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
				switch wrap {
				case "setter":
					ctx = settingContext{ctx, &set}
				case "value":
					ctx = huma.WithValue(ctx, hostKey{}, "host")
				}
				next(ctx)
			})
			s, err := sety.New(memory.New())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Register(api); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			org, err := s.Auth.CreateOrganization(ctx, "Acme Rides", auth.Growth)
			if err != nil {
				t.Fatal(err)
			}
			_, key, err := s.Auth.IssueKey(ctx, auth.Tenant{OrgID: org.ID, Env: auth.Live}, auth.KeySpec{Name: "k", Scopes: []auth.Scope{auth.All}})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{"299", "298"} {
				req := httptest.NewRequest(http.MethodGet, s.BasePath()+"/incidents", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				h := rec.Header()
				if rec.Code != http.StatusOK || h.Get("X-RateLimit-Limit") != "300" || h.Get("X-RateLimit-Remaining") != want ||
					len(h.Get("X-RateLimit-Reset")) != len("2026-03-10T14:23:05.412Z") || len(h.Values("X-RateLimit-Limit")) != 1 {
					t.Fatalf("get %d: %d %v %s", i+1, rec.Code, h, rec.Body)
				}
			}
			if wrap == "setter" && (!slices.Contains(set, "X-Ratelimit-Limit") || !slices.Contains(set, "X-Ratelimit-Remaining") ||
				!slices.Contains(set, "X-Ratelimit-Reset")) {
				t.Fatalf("the host's wrapper saw %v set", set)
			}
		})
	}
}
