package access_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// sety.WithAccessLockout replaces the default rule (5 guesses in 10 min
// lock the site for 10 min): here 2 guesses lock it for 3 min.
func TestLockoutOption(t *testing.T) {
	f := newFixture(t, memory.New(), sety.WithAccessLockout(access.Lockout{Failures: 2, Window: time.Minute, Lock: 3 * time.Minute}))
	_, digits := f.code(t, access.CreateCodeRequest{})
	f.validate(t, "000000", "lekki-gardens")
	if r := f.validate(t, digits, "lekki-gardens"); r.Reason != access.ReasonOK {
		t.Fatalf("after one guess: %s", r.Reason)
	}
	f.validate(t, "000000", "lekki-gardens")
	f.validate(t, "000001", "lekki-gardens")
	if r := f.validate(t, digits, "lekki-gardens"); r.Reason != access.ReasonLocked {
		t.Fatalf("after two guesses within the window: %s", r.Reason)
	}
	f.clk.Advance(3 * time.Minute)
	if r := f.validate(t, digits, "lekki-gardens"); r.Reason != access.ReasonOK {
		t.Fatalf("after the 3 min lock: %s", r.Reason)
	}
}

// A reader of the event log decodes visit and code events with
// LogEventPayload and CodeEventPayload: the visit as Service.Log reads it,
// the code as Service.Code does; another event type is Invalid.
func TestEventPayloads(t *testing.T) {
	f := newFixture(t, memory.New())
	code, digits := f.code(t, access.CreateCodeRequest{})
	visit := f.validate(t, digits, "lekki-gardens").AccessLog
	if visit == nil {
		t.Fatal("a valid code with check-in opened no visit")
	}
	if _, err := f.s.Access.RevokeCode(f.ctx, f.tenant, code.ID); err != nil {
		t.Fatal(err)
	}
	events, _, err := f.s.Events(f.ctx, 0, outbox.Filter{TypePrefix: "access."}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sawVisit, sawRevoked bool
	for _, ev := range events {
		switch ev.Type {
		case access.TypeCheckedIn:
			got, err := access.LogEventPayload(ev)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.s.Access.Log(f.ctx, f.tenant, visit.ID)
			if err != nil {
				t.Fatal(err)
			}
			// As the API shows it, with its tenant (Sequence is the store's).
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) || got.OrgID != f.tenant.OrgID || got.Environment != auth.Live {
				t.Fatalf("checked_in payload %s of %s, the visit %s", gotJSON, got.Tenant(), wantJSON)
			}
			if _, err := access.CodeEventPayload(ev); !setyerr.Is(err, setyerr.Invalid) {
				t.Fatalf("CodeEventPayload of a visit event: %v, want Invalid", err)
			}
			sawVisit = true
		case access.TypeCodeRevoked:
			got, err := access.CodeEventPayload(ev)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.s.Access.Code(f.ctx, f.tenant, code.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != want.ID || got.Status != access.Revoked || got.OrgID != f.tenant.OrgID || got.Environment != auth.Live {
				t.Fatalf("code_revoked payload %+v, the code %+v", got, want)
			}
			if _, err := access.LogEventPayload(ev); !setyerr.Is(err, setyerr.Invalid) {
				t.Fatalf("LogEventPayload of a code event: %v, want Invalid", err)
			}
			sawRevoked = true
		}
	}
	if !sawVisit || !sawRevoked {
		t.Fatalf("events %+v: want access.checked_in and access.code_revoked", events)
	}
	other := auth.Tenant{OrgID: "org_zzzzzzzzzzzzzzzz", Env: auth.Live}
	for _, id := range []string{visit.ID, "log_nope", ""} {
		tenant := f.tenant
		if id == visit.ID {
			tenant = other
		}
		if _, err := f.s.Access.Log(f.ctx, tenant, id); !setyerr.Is(err, setyerr.NotFound) {
			t.Fatalf("Log(%s) of tenant %s: %v, want NotFound", id, tenant.OrgID, err)
		}
	}
}
