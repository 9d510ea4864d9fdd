package access_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/adapters/storetest"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

var t0 = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC) // a Tuesday

type fixture struct {
	ctx    context.Context
	clk    *clock.Fake
	stores storetest.Stores
	s      *sety.Sety
	tenant auth.Tenant
}

func newFixture(t testing.TB, stores storetest.Stores, opts ...sety.Option) *fixture {
	f := &fixture{ctx: context.Background(), clk: clock.NewFake(t0), stores: stores}
	opts = append([]sety.Option{sety.WithClock(f.clk.Now), sety.WithAccessCodeKey([]byte("a key kept outside the database"))}, opts...)
	s, err := sety.New(stores, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	org, err := s.Auth.CreateOrganization(f.ctx, "Lekki Gardens Estate", auth.Growth)
	if err != nil {
		t.Fatal(err)
	}
	f.tenant = auth.Tenant{OrgID: org.ID, Env: auth.Live}
	return f
}

func (f *fixture) code(t *testing.T, req access.CreateCodeRequest) (*access.AccessCode, string) {
	t.Helper()
	if req.Site == "" {
		req.Site = "lekki-gardens"
	}
	if req.Visitor.Name == "" {
		req.Visitor.Name = "Tolu Bakare"
	}
	c, digits, err := f.s.Access.CreateCode(f.ctx, f.tenant, req)
	if err != nil {
		t.Fatal(err)
	}
	return c, digits
}

func (f *fixture) validate(t *testing.T, digits, site string) *access.ValidationResult {
	t.Helper()
	res, err := f.s.Access.Validate(f.ctx, f.tenant, access.ValidateRequest{Code: digits, Site: site, Gate: "North gate"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func intp(n int) *int { return &n }

func TestCreateCode(t *testing.T) {
	f := newFixture(t, memory.New())
	c, digits := f.code(t, access.CreateCodeRequest{})
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(digits) || c.CodeHint != "••••"+digits[4:] || c.Status != access.Active ||
		!c.ValidFrom.Equal(t0) || !c.ValidUntil.Equal(t0.Add(24*time.Hour)) || c.MaxUses != nil {
		t.Fatalf("code %q: %+v", digits, c)
	}
	if strings.Contains(string(c.Hash), digits) || len(c.Hash) != 32 {
		t.Fatal("the digits are stored")
	}
	_, ten := f.code(t, access.CreateCodeRequest{Length: 10})
	if len(ten) != 10 {
		t.Fatalf("length 10 gave %q", ten)
	}
	for _, bad := range []struct {
		field string
		req   access.CreateCodeRequest
	}{
		{"site", access.CreateCodeRequest{Visitor: access.Visitor{Name: "x"}}},
		{"visitor.name", access.CreateCodeRequest{Site: "s"}},
		{"length", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x"}, Length: 3}},
		{"length", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x"}, Length: 11}},
		{"max_uses", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x"}, MaxUses: intp(0)}},
		{"valid_until", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x"}, ValidFrom: clock.At(t0.Add(time.Hour)), ValidUntil: clock.At(t0)}},
		{"valid_until", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x"}, ValidFrom: clock.At(t0.Add(-2 * time.Hour)), ValidUntil: clock.At(t0.Add(-time.Hour))}},
		{"visitor.phone", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x", Phone: strp("0803")}}},
		{"visitor.email", access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x", Email: strp("nope")}}},
	} {
		if _, _, err := f.s.Access.CreateCode(f.ctx, f.tenant, bad.req); !setyerr.Is(err, setyerr.Invalid) || !strings.HasPrefix(err.Error(), bad.field) {
			t.Errorf("%+v: %v, want Invalid naming %s", bad.req, err, bad.field)
		}
	}
	// Four-digit codes run out: the 10,000 codes space is searched, then refused.
	tight := newFixture(t, memory.New())
	for range 300 {
		if _, _, err := tight.s.Access.CreateCode(tight.ctx, tight.tenant, access.CreateCodeRequest{Site: "s", Visitor: access.Visitor{Name: "x"}, Length: 4}); err != nil {
			t.Fatalf("a free 4-digit code was not found: %v", err)
		}
	}
}

func strp(s string) *string { return &s }

func TestValidationReasonsAndStatusesOverTime(t *testing.T) {
	f := newFixture(t, memory.New())
	later, laterDigits := f.code(t, access.CreateCodeRequest{ValidFrom: clock.At(t0.Add(time.Hour)), ValidUntil: clock.At(t0.Add(2 * time.Hour))})
	once, onceDigits := f.code(t, access.CreateCodeRequest{MaxUses: intp(1), ValidUntil: clock.At(t0.Add(3 * time.Hour))})
	revoked, revokedDigits := f.code(t, access.CreateCodeRequest{})
	if _, err := f.s.Access.RevokeCode(f.ctx, f.tenant, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Access.RevokeCode(f.ctx, f.tenant, revoked.ID); !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("revoking twice: %v", err)
	}

	check := func(digits, site, want string) *access.ValidationResult {
		t.Helper()
		res := f.validate(t, digits, site)
		if res.Reason != want || res.Valid != (want == access.ReasonOK) {
			t.Fatalf("%s at %s, +%v: %s, want %s", digits, site, f.clk.Now().Sub(t0), res.Reason, want)
		}
		return res
	}
	check(laterDigits, "lekki-gardens", access.ReasonNotYetValid)
	check(revokedDigits, "lekki-gardens", access.ReasonRevoked)
	check(onceDigits, "victoria-court", access.ReasonNotFound) // right digits, wrong site
	res := check(onceDigits, "lekki-gardens", access.ReasonOK)
	if res.AccessLog == nil || res.AccessLog.Method != access.MethodCode || *res.AccessLog.AccessCodeID != once.ID || *res.AccessLog.Gate != "North gate" ||
		res.AccessCode.Uses != 1 || res.AccessCode.Status != access.Used {
		t.Fatalf("check-in: %+v %+v", res.AccessLog, res.AccessCode)
	}
	f.clk.Advance(90 * time.Minute)
	check(onceDigits, "lekki-gardens", access.ReasonUsedUp)
	// Validation without check-in counts no use and opens no visit.
	no := false
	r, err := f.s.Access.Validate(f.ctx, f.tenant, access.ValidateRequest{Code: laterDigits, Site: "lekki-gardens", CheckIn: &no})
	if err != nil || !r.Valid || r.AccessLog != nil || r.AccessCode.Uses != 0 {
		t.Fatalf("check without check-in: %+v %v", r, err)
	}
	f.clk.Advance(time.Hour) // 2.5 h: later has expired
	check(laterDigits, "lekki-gardens", access.ReasonExpired)
	for id, want := range map[string]string{later.ID: access.Expired, once.ID: access.Used, revoked.ID: access.Revoked} {
		if c, _ := f.s.Access.Code(f.ctx, f.tenant, id); c.Status != want {
			t.Errorf("%s: %s, want %s", id, c.Status, want)
		}
	}
	if _, err := f.s.Access.RevokeCode(f.ctx, f.tenant, later.ID); !setyerr.Is(err, setyerr.Conflict) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("revoking an expired code: %v", err)
	}
}

func TestLockout(t *testing.T) {
	f := newFixture(t, memory.New())
	_, digits := f.code(t, access.CreateCodeRequest{})
	for i := range 5 {
		if r := f.validate(t, "000000", "lekki-gardens"); r.Reason != access.ReasonNotFound {
			t.Fatalf("guess %d: %s", i, r.Reason)
		}
		f.clk.Advance(time.Minute)
	}
	if r := f.validate(t, digits, "lekki-gardens"); r.Reason != access.ReasonLocked || r.AccessCode != nil {
		t.Fatalf("after five guesses: %+v", r)
	}
	f.clk.Advance(8 * time.Minute) // 9 min after the fifth guess
	if r := f.validate(t, digits, "lekki-gardens"); r.Reason != access.ReasonLocked {
		t.Fatalf("9 min into the lock: %s", r.Reason)
	}
	f.clk.Advance(time.Minute) // 10 min after the fifth guess
	if r := f.validate(t, digits, "lekki-gardens"); r.Reason != access.ReasonOK {
		t.Fatalf("after the lock: %s", r.Reason)
	}
}

// validateAtOnce presents digits at "lekki-gardens" from n gates at once
// and counts the verdicts by reason.
func (f *fixture) validateAtOnce(t *testing.T, digits string, n int) map[string]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	reasons := map[string]int{}
	for range n {
		wg.Go(func() {
			res, err := f.s.Access.Validate(f.ctx, f.tenant, access.ValidateRequest{Code: digits, Site: "lekki-gardens"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			reasons[res.Reason]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return reasons
}

// Many gates validating one code at once never use it more than max_uses.
func TestMaxUsesUnderConcurrentValidation(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The default lockout: refusals of a used-up code are not guesses.
	f := newFixture(t, db)
	c, digits := f.code(t, access.CreateCodeRequest{MaxUses: intp(5)})
	reasons := f.validateAtOnce(t, digits, 40)
	got, _ := f.s.Access.Code(f.ctx, f.tenant, c.ID)
	_, logs, _ := f.s.Access.Logs(f.ctx, f.tenant, access.LogFilter{Limit: 100})
	if reasons[access.ReasonOK] != 5 || reasons[access.ReasonUsedUp] != 35 || got.Uses != 5 || logs != 5 {
		t.Fatalf("reasons %v, uses %d, logs %d", reasons, got.Uses, logs)
	}
}

// The finding of issue 11: twenty gates presenting a single-use code at
// once gave 1 ok, 5 used_up and 14 locked, and locked every visitor out of
// the site for 10 minutes. Only guesses count towards the lockout.
func TestSpentCodeNeverLocksTheSite(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := newFixture(t, db) // the default lockout: 5 guesses in 10 minutes
	_, once := f.code(t, access.CreateCodeRequest{MaxUses: intp(1)})
	reasons := f.validateAtOnce(t, once, 20)
	if reasons[access.ReasonOK] != 1 || reasons[access.ReasonUsedUp] != 19 {
		t.Fatalf("reasons %v, want 1 ok and 19 used_up", reasons)
	}
	// Expired, not yet valid and revoked codes, presented again and again,
	// are not guesses either.
	_, expired := f.code(t, access.CreateCodeRequest{ValidUntil: clock.At(t0.Add(time.Minute))})
	_, early := f.code(t, access.CreateCodeRequest{ValidFrom: clock.At(t0.Add(time.Hour)), ValidUntil: clock.At(t0.Add(2 * time.Hour))})
	revoked, revokedDigits := f.code(t, access.CreateCodeRequest{})
	if _, err := f.s.Access.RevokeCode(f.ctx, f.tenant, revoked.ID); err != nil {
		t.Fatal(err)
	}
	_, good := f.code(t, access.CreateCodeRequest{ValidUntil: clock.At(t0.Add(3 * time.Hour))})
	f.clk.Advance(2 * time.Minute)
	for range 10 {
		for digits, want := range map[string]string{once: access.ReasonUsedUp, expired: access.ReasonExpired, early: access.ReasonNotYetValid, revokedDigits: access.ReasonRevoked} {
			if r := f.validate(t, digits, "lekki-gardens"); r.Reason != want {
				t.Fatalf("got %s, want %s", r.Reason, want)
			}
		}
	}
	if r := f.validate(t, good, "lekki-gardens"); r.Reason != access.ReasonOK {
		t.Fatalf("a good code after 60 refusals of real codes: %s, want ok", r.Reason)
	}
}

func TestVisitsCheckoutAndOverstay(t *testing.T) {
	f := newFixture(t, memory.New())
	manual, err := f.s.Access.CreateLog(f.ctx, f.tenant, access.CreateLogRequest{
		Visitor: access.Visitor{Name: "Emeka"}, Site: "lekki-gardens", ExpectedUntil: clock.At(t0.Add(time.Hour)),
	})
	if err != nil || manual.Method != access.MethodManual || manual.Status != access.CheckedIn {
		t.Fatalf("manual check-in: %+v %v", manual, err)
	}
	f.clk.Advance(30 * time.Minute)
	_, digits := f.code(t, access.CreateCodeRequest{ValidUntil: clock.At(t0.Add(8 * time.Hour))})
	viaCode := f.validate(t, digits, "lekki-gardens").AccessLog
	f.clk.Advance(45 * time.Minute) // 75 min: Emeka overstays by 15

	vs, err := f.s.Access.CurrentVisitors(f.ctx, f.tenant, "lekki-gardens")
	if err != nil || len(vs) != 2 || vs[0].LogID != manual.ID || vs[0].OnSiteSeconds != 4500 || !vs[0].Overstayed || vs[1].Overstayed {
		t.Fatalf("current visitors %+v %v", vs, err)
	}
	for _, bad := range []access.CheckoutRequest{
		{CheckedOutAt: clock.At(t0.Add(-time.Minute))},       // before the check-in
		{CheckedOutAt: clock.At(f.clk.Now().Add(time.Hour))}, // in the future
	} {
		if _, err := f.s.Access.Checkout(f.ctx, f.tenant, manual.ID, bad); !setyerr.Is(err, setyerr.Invalid) {
			t.Fatalf("checkout at %v: %v", bad.CheckedOutAt, err)
		}
	}
	out, err := f.s.Access.Checkout(f.ctx, f.tenant, manual.ID, access.CheckoutRequest{CheckedOutAt: clock.At(t0.Add(70 * time.Minute)), Notes: "left by the side gate"})
	if err != nil || out.Status != access.CheckedOut || *out.DurationSeconds != 4200 || *out.Notes != "left by the side gate" {
		t.Fatalf("checkout: %+v %v", out, err)
	}
	if _, err := f.s.Access.Checkout(f.ctx, f.tenant, manual.ID, access.CheckoutRequest{}); !setyerr.Is(err, setyerr.Conflict) {
		t.Fatalf("second checkout: %v", err)
	}
	if _, err := f.s.Access.Checkout(f.ctx, auth.Tenant{OrgID: f.tenant.OrgID, Env: auth.Test}, viaCode.ID, access.CheckoutRequest{}); !setyerr.Is(err, setyerr.NotFound) {
		t.Fatalf("checkout from the test environment: %v", err)
	}
	events, _ := f.stores.OutboxReader().PendingEvents(f.ctx, 100)
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "access.checked_in,access.checked_in,access.checked_out" {
		t.Fatalf("events %v", types)
	}
	st, err := f.s.Access.Stats(f.ctx, f.tenant, "", time.Time{}, time.Time{})
	if err != nil || st.TotalEntries != 2 || st.CurrentlyOnSite != 1 || st.CheckedOut != 1 || *st.PeakHour != 14 || st.Overstays != 1 ||
		st.ByMethod["code"] != 1 || st.ByWeekday[2] != 2 || *st.MedianVisitSeconds != 4200 {
		t.Fatalf("stats %+v %v", st, err)
	}
}
