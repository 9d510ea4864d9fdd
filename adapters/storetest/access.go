package storetest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

func newCode(t testing.TB, tenant auth.Tenant, hash string, from, until time.Time, maxUses *int) *access.AccessCode {
	return &access.AccessCode{
		ID: fixtureID(t, "acc"), CodeHint: "••••21", Site: "lekki-gardens",
		Visitor: access.Visitor{Name: "Tolu Bakare", VehiclePlate: ptr("LND-442-KJ")}, Host: access.Host{Unit: ptr("C4")},
		Purpose: ptr("Delivery; DROP TABLE x"), ValidFrom: clock.At(from), ValidUntil: clock.At(until), MaxUses: maxUses,
		CreatedAt: clock.At(from), OrgID: tenant.OrgID, Environment: tenant.Env, Hash: []byte(hash),
	}
}

func newLog(t testing.TB, tenant auth.Tenant, site string, in time.Time) *access.AccessLog {
	return &access.AccessLog{
		ID: fixtureID(t, "log"), Site: site, Visitor: access.Visitor{Name: "Ngozi Eze"}, Method: access.MethodManual,
		Status: access.CheckedIn, CheckedInAt: clock.At(in), CreatedAt: clock.At(in), UpdatedAt: clock.At(in),
		OrgID: tenant.OrgID, Environment: tenant.Env, Sequence: 1,
	}
}

func logEvent(t testing.TB, l *access.AccessLog, typ string) outbox.Event {
	return outbox.Event{ID: fixtureID(t, "evt"), OrgID: l.OrgID, Environment: string(l.Environment), Type: typ, SubjectID: l.ID,
		Sequence: l.Sequence, Data: []byte(`{}`), CreatedAt: l.UpdatedAt.Time}
}

var lockout = access.Lockout{Failures: 3, Window: 10 * time.Minute, Lock: 10 * time.Minute}

// TestAccess checks the access store: the code key, codes and their derived
// statuses, atomic use counting, the per-site lockout, logs and stats.
func TestAccess(t *testing.T, newStores NewStores, f Features) {
	newStores = seeded(newStores)
	ctx := context.Background()

	t.Run("CodeKeyIsStable", single(newStores, sameCodeKey))
	t.Run("SharedCodeKey", shared(newStores, f, sameCodeKey))

	t.Run("CodesAndStatuses", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AccessStore()
		one := 1
		active := newCode(t, tenantA, "h1", base, base.Add(time.Hour), nil)
		must(t, st.CreateCode(ctx, active, base))
		got, err := st.GetCode(ctx, tenantA, active.ID)
		must(t, err)
		if !reflect.DeepEqual(got, active) {
			t.Fatalf("code %+v, want %+v", got, active)
		}
		// Same digits while active: taken; in another tenant: fine.
		wantKind(t, st.CreateCode(ctx, newCode(t, tenantA, "h1", base, base.Add(2*time.Hour), nil), base), setyerr.Conflict)
		must(t, st.CreateCode(ctx, newCode(t, tenantATest, "h1", base, base.Add(time.Hour), nil), base))
		// Once the first expires, its digits are free again.
		later := newCode(t, tenantA, "h1", base.Add(time.Hour), base.Add(2*time.Hour), nil)
		must(t, st.CreateCode(ctx, later, base.Add(time.Hour)))

		used := newCode(t, tenantA, "h2", base, base.Add(time.Hour), &one)
		used.Uses = 1
		must(t, st.CreateCode(ctx, used, base))
		revoked := newCode(t, tenantA, "h3", base, base.Add(time.Hour), nil)
		must(t, st.CreateCode(ctx, revoked, base))
		_, err = st.UpdateCode(ctx, tenantA, revoked.ID, func(c *access.AccessCode) ([]outbox.Event, error) {
			c.RevokedAt, c.Sequence = clock.At(base), 1
			return []outbox.Event{{ID: fixtureID(t, "evt"), OrgID: c.OrgID, Environment: "live", Type: access.TypeCodeRevoked, SubjectID: c.ID, Sequence: 1, Data: []byte(`{}`), CreatedAt: base}}, nil
		})
		must(t, err)
		expired := newCode(t, tenantA, "h4", base.Add(-2*time.Hour), base.Add(-time.Hour), nil)
		must(t, st.CreateCode(ctx, expired, base))
		other := newCode(t, tenantA, "h5", base, base.Add(time.Hour), nil)
		other.Site = "victoria-court"
		must(t, st.CreateCode(ctx, other, base))

		now := base.Add(30 * time.Minute)
		for status, want := range map[string][]string{
			access.Active: {later.ID, other.ID, active.ID}, access.Used: {used.ID}, access.Revoked: {revoked.ID}, access.Expired: {expired.ID},
		} {
			list, total, err := st.ListCodes(ctx, tenantA, access.CodeFilter{Status: status, Now: now, Limit: 10})
			must(t, err)
			ids := []string{}
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) || total != len(want) {
				t.Errorf("%s at +30 min: %v, want %v", status, ids, want)
			}
		}
		// At +90 min the first code has expired too; used and revoked stay so.
		list, _, err := st.ListCodes(ctx, tenantA, access.CodeFilter{Status: access.Expired, Now: base.Add(90 * time.Minute), Site: "lekki-gardens", Limit: 10})
		must(t, err)
		if len(list) != 2 || list[0].ID != active.ID && list[1].ID != active.ID {
			t.Fatalf("expired at +90 min at lekki-gardens: %d codes", len(list))
		}
		_, err = st.GetCode(ctx, tenantB, active.ID)
		wantKind(t, err, setyerr.NotFound)
	})

	t.Run("ValidateCountsUsesAtomically", single(newStores, countUses))
	t.Run("SharedCodeUses", shared(newStores, f, countUses))

	t.Run("ValidationLockout", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AccessStore()
		code := newCode(t, tenantA, "good", base, base.Add(time.Hour), nil)
		must(t, st.CreateCode(ctx, code, base))
		validate := func(hash, site string, at time.Time) string {
			res, err := st.Validate(ctx, tenantA, access.Validation{Hash: []byte(hash), Site: site, Now: at, Lockout: lockout},
				func(c *access.AccessCode) (access.Decision, error) {
					if c == nil {
						return access.Decision{Reason: access.ReasonNotFound}, nil
					}
					return access.Decision{Reason: access.ReasonOK}, nil
				})
			must(t, err)
			return res.Reason
		}
		if r := validate("bad", "lekki-gardens", base); r != access.ReasonNotFound {
			t.Fatal(r)
		}
		validate("bad", "lekki-gardens", base.Add(time.Minute))
		if r := validate("good", "lekki-gardens", base.Add(2*time.Minute)); r != access.ReasonOK {
			t.Fatalf("before the lock: %s", r)
		}
		validate("bad", "lekki-gardens", base.Add(3*time.Minute)) // third failure in 10 min: locked
		if r := validate("good", "lekki-gardens", base.Add(4*time.Minute)); r != access.ReasonLocked {
			t.Fatalf("after 3 failures: %s, want locked", r)
		}
		if r := validate("good", "victoria-court", base.Add(4*time.Minute)); r != access.ReasonNotFound {
			t.Fatalf("another site: %s", r) // the code is for lekki-gardens only; the lock is per site
		}
		if r := validate("good", "lekki-gardens", base.Add(12*time.Minute)); r != access.ReasonLocked {
			t.Fatalf("9 min into the lock: %s", r)
		}
		if r := validate("good", "lekki-gardens", base.Add(13*time.Minute)); r != access.ReasonOK {
			t.Fatalf("after the lock: %s", r)
		}
		// Failures spread wider than the window never lock.
		for i := range 5 {
			validate("bad", "spread", base.Add(time.Duration(i)*6*time.Minute))
		}
		if r := validate("bad", "spread", base.Add(30*time.Minute)); r == access.ReasonLocked {
			t.Fatal("failures 6 minutes apart locked the site")
		}
	})

	t.Run("RefusedRealCodesNeverLock", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AccessStore()
		one := 1
		spent := newCode(t, tenantA, "spent", base, base.Add(time.Hour), &one)
		spent.Uses = 1
		must(t, st.CreateCode(ctx, spent, base))
		expired := newCode(t, tenantA, "expired", base.Add(-2*time.Hour), base.Add(-time.Hour), nil)
		must(t, st.CreateCode(ctx, expired, base.Add(-2*time.Hour)))
		good := newCode(t, tenantA, "good", base, base.Add(time.Hour), nil)
		must(t, st.CreateCode(ctx, good, base))
		validate := func(hash string, reason string, checkIn bool) string {
			res, err := st.Validate(ctx, tenantA, access.Validation{Hash: []byte(hash), Site: "lekki-gardens", Now: base, Lockout: lockout},
				func(c *access.AccessCode) (access.Decision, error) {
					if c == nil {
						return access.Decision{Reason: access.ReasonNotFound}, nil
					}
					if !checkIn {
						return access.Decision{Reason: reason}, nil
					}
					l := newLog(t, tenantA, "lekki-gardens", base)
					l.Method, l.AccessCodeID = access.MethodCode, &c.ID
					return access.Decision{Reason: access.ReasonOK, Log: l, Events: []outbox.Event{logEvent(t, l, access.TypeCheckedIn)}}, nil
				})
			must(t, err)
			return res.Reason
		}
		// Many more refusals of real codes than the lockout allows guesses:
		// a spent code whose use the store refuses, and codes the service
		// refuses (expired, revoked, not yet valid, used up).
		for range 2 * lockout.Failures {
			if r := validate("spent", "", true); r != access.ReasonUsedUp {
				t.Fatalf("a spent code: %s", r)
			}
			for _, reason := range []string{access.ReasonExpired, access.ReasonRevoked, access.ReasonNotYetValid, access.ReasonUsedUp} {
				if r := validate("expired", reason, false); r != reason {
					t.Fatalf("refused as %s: %s", reason, r)
				}
			}
		}
		if r := validate("good", access.ReasonOK, false); r != access.ReasonOK {
			t.Fatalf("after refusals of real codes: %s, want ok", r)
		}
		// Guesses still lock.
		for range lockout.Failures {
			if r := validate("nothing", "", false); r != access.ReasonNotFound {
				t.Fatalf("a guess: %s", r)
			}
		}
		if r := validate("good", access.ReasonOK, false); r != access.ReasonLocked {
			t.Fatalf("after %d guesses: %s, want locked", lockout.Failures, r)
		}
	})

	t.Run("Logs", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AccessStore()
		a := newLog(t, tenantA, "lekki-gardens", base)
		a.Visitor.VehiclePlate, a.Purpose = ptr("ABC-100%"), ptr("Plumbing")
		must(t, st.CreateLog(ctx, a, logEvent(t, a, access.TypeCheckedIn)))
		b := newLog(t, tenantA, "victoria-court", base.Add(time.Hour))
		b.Visitor.Name, b.Host.Name = "Kunle", ptr("Ada Obi")
		must(t, st.CreateLog(ctx, b, logEvent(t, b, access.TypeCheckedIn)))
		c := newLog(t, tenantB, "lekki-gardens", base)
		must(t, st.CreateLog(ctx, c, logEvent(t, c, access.TypeCheckedIn)))
		got, err := st.GetLog(ctx, tenantA, a.ID)
		must(t, err)
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("log %+v, want %+v", got, a)
		}
		_, err = st.GetLog(ctx, tenantB, a.ID)
		wantKind(t, err, setyerr.NotFound)
		out, err := st.UpdateLog(ctx, tenantA, a.ID, func(l *access.AccessLog) ([]outbox.Event, error) {
			d := int64(1800)
			l.Status, l.CheckedOutAt, l.DurationSeconds, l.Sequence = access.CheckedOut, clock.At(base.Add(30*time.Minute)), &d, 2
			return []outbox.Event{logEvent(t, l, access.TypeCheckedOut)}, nil
		})
		must(t, err)
		if again, _ := st.GetLog(ctx, tenantA, a.ID); !reflect.DeepEqual(again, out) {
			t.Fatal("checkout not stored")
		}
		list := func(f access.LogFilter) string {
			f.Limit = 10
			items, _, err := st.ListLogs(ctx, tenantA, f)
			must(t, err)
			s := ""
			for _, l := range items {
				s += l.Visitor.Name + ";"
			}
			return s
		}
		for _, tt := range []struct {
			f    access.LogFilter
			want string
		}{
			{access.LogFilter{}, "Kunle;Ngozi Eze;"},
			{access.LogFilter{Status: access.CheckedIn}, "Kunle;"},
			{access.LogFilter{Site: "lekki-gardens"}, "Ngozi Eze;"},
			{access.LogFilter{Search: "ada ob"}, "Kunle;"},
			{access.LogFilter{Search: "100%"}, "Ngozi Eze;"},
			{access.LogFilter{Search: "%"}, "Ngozi Eze;"},
			{access.LogFilter{Search: "_"}, ""},
			{access.LogFilter{Search: "PLUMB"}, "Ngozi Eze;"},
			{access.LogFilter{From: base.Add(time.Minute)}, "Kunle;"},
			{access.LogFilter{To: base}, "Ngozi Eze;"},
		} {
			if got := list(tt.f); got != tt.want {
				t.Errorf("%+v: %q, want %q", tt.f, got, tt.want)
			}
		}
		on, err := st.OnSite(ctx, tenantA, "")
		must(t, err)
		if len(on) != 1 || on[0].ID != b.ID {
			t.Fatalf("on site: %v", on)
		}
		if on, _ := st.OnSite(ctx, tenantA, "lekki-gardens"); len(on) != 0 {
			t.Fatal("a checked-out visitor is on site")
		}
	})

	t.Run("Stats", func(t *testing.T) {
		t.Parallel()
		st := newStores(t).AccessStore()
		// base is a Tuesday, 14:22 UTC. Four visits checked out (600, 1200,
		// 1800, 3600 s), two still in, one overstaying, one outside the window.
		durations := []int64{600, 1200, 1800, 3600}
		for i, d := range durations {
			l := newLog(t, tenantA, "lekki-gardens", base.Add(time.Duration(i)*24*time.Hour))
			if i == 3 {
				l.Method = access.MethodCode
				l.ExpectedUntil = clock.At(l.CheckedInAt.Add(30 * time.Minute)) // left after an hour: an overstay
			}
			must(t, st.CreateLog(ctx, l, logEvent(t, l, access.TypeCheckedIn)))
			_, err := st.UpdateLog(ctx, tenantA, l.ID, func(l *access.AccessLog) ([]outbox.Event, error) {
				l.Status, l.CheckedOutAt, l.DurationSeconds = access.CheckedOut, clock.At(l.CheckedInAt.Add(time.Duration(d)*time.Second)), &d
				return nil, nil
			})
			must(t, err)
		}
		in1 := newLog(t, tenantA, "lekki-gardens", base.Add(2*time.Hour))
		in1.ExpectedUntil = clock.At(base.Add(3 * time.Hour)) // still in at now: an overstay
		in2 := newLog(t, tenantA, "lekki-gardens", base.Add(5*24*time.Hour+time.Hour))
		out := newLog(t, tenantA, "lekki-gardens", base.Add(-48*time.Hour)) // before the window, still in
		other := newLog(t, tenantA, "victoria-court", base)
		for _, l := range []*access.AccessLog{in1, in2, out, other} {
			must(t, st.CreateLog(ctx, l, logEvent(t, l, access.TypeCheckedIn)))
		}
		now := base.Add(10 * 24 * time.Hour)
		s, err := st.LogStats(ctx, tenantA, "lekki-gardens", base, base.Add(7*24*time.Hour), now)
		must(t, err)
		f := func(v *float64) string {
			if v == nil {
				return "null"
			}
			return fmt.Sprint(*v)
		}
		got := fmt.Sprintf("%d %d %d %s %s %v %d", s.TotalEntries, s.CurrentlyOnSite, s.CheckedOut, f(s.AverageVisitSeconds), f(s.MedianVisitSeconds), s.ByMethod, s.Overstays)
		if want := "6 3 4 1800 1500 map[code:1 manual:5] 2"; got != want {
			t.Errorf("stats = %s, want %s", got, want)
		}
		// By hour: 14:xx ×4, 16:xx ×1, 15:xx ×1. By weekday: Tue Wed Thu Fri, Tue (in1), Sun (in2).
		if s.ByHour[14] != 4 || s.ByHour[16] != 1 || s.ByHour[15] != 1 || fmt.Sprint(s.ByWeekday) != "[1 0 2 1 1 1 0]" {
			t.Errorf("by hour %v, by weekday %v", s.ByHour, s.ByWeekday)
		}
		empty, err := st.LogStats(ctx, tenantB, "", base, base.Add(time.Hour), now)
		must(t, err)
		if empty.TotalEntries != 0 || empty.AverageVisitSeconds != nil || len(empty.ByHour) != 24 || len(empty.ByWeekday) != 7 {
			t.Fatalf("empty stats %+v", empty)
		}
	})
}

// countUses has twenty check-ins race for a code of three uses, through the
// handles in turn, and checks that exactly three were let in, each with its
// log, and that the seventeen refused as used up locked nothing: a spent
// code is not a guess.
func countUses(t *testing.T, handles []Stores) {
	ctx := context.Background()
	st := handles[0].AccessStore()
	three := 3
	code := newCode(t, tenantA, "gate", base, base.Add(time.Hour), &three)
	must(t, st.CreateCode(ctx, code, base))
	const n = 20
	var wg sync.WaitGroup
	results := make([]*access.ValidationResult, n)
	for i := range n {
		st := handles[i%len(handles)].AccessStore()
		wg.Go(func() {
			res, err := st.Validate(ctx, tenantA, access.Validation{Hash: []byte("gate"), Site: "lekki-gardens", Now: base, Lockout: lockout},
				func(c *access.AccessCode) (access.Decision, error) {
					if c == nil || c.MaxUses != nil && c.Uses >= *c.MaxUses {
						return access.Decision{Reason: access.ReasonUsedUp}, nil
					}
					l := newLog(t, tenantA, "lekki-gardens", base)
					l.Method, l.AccessCodeID = access.MethodCode, &c.ID
					return access.Decision{Reason: access.ReasonOK, Log: l, Events: []outbox.Event{logEvent(t, l, access.TypeCheckedIn)}}, nil
				})
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = res
		})
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		if r == nil {
			t.FailNow() // its error is reported above
		}
		if r.Reason == access.ReasonOK {
			ok++
			if r.AccessLog == nil {
				t.Fatal("an accepted check-in has no log")
			}
		} else if r.Reason != access.ReasonUsedUp {
			t.Fatalf("reason %s", r.Reason)
		}
	}
	got, _ := st.GetCode(ctx, tenantA, code.ID)
	_, logs, _ := st.ListLogs(ctx, tenantA, access.LogFilter{Limit: 100})
	if ok != 3 || got.Uses != 3 || logs != 3 {
		t.Fatalf("%d accepted, uses %d, %d logs; want 3, 3, 3", ok, got.Uses, logs)
	}
	// The site is not locked: another visitor's code still validates.
	other := newCode(t, tenantA, "other", base, base.Add(time.Hour), nil)
	must(t, st.CreateCode(ctx, other, base))
	res, err := handles[len(handles)-1].AccessStore().Validate(ctx, tenantA, access.Validation{Hash: []byte("other"), Site: "lekki-gardens", Now: base, Lockout: lockout},
		func(*access.AccessCode) (access.Decision, error) {
			return access.Decision{Reason: access.ReasonOK}, nil
		})
	must(t, err)
	if res.Reason != access.ReasonOK {
		t.Fatalf("after the refusals of a spent code: %s, want ok", res.Reason)
	}
}

// sameCodeKey asks for the code key at once, through the handles in turn,
// and again after, and checks that every answer is the same key of at least
// 32 bytes: codes hashed by one instance validate on every other.
func sameCodeKey(t *testing.T, handles []Stores) {
	ctx := context.Background()
	keys := make([][]byte, 2*len(handles)+1)
	var wg sync.WaitGroup
	for i := range len(keys) - 1 {
		st := handles[i%len(handles)].AccessStore()
		wg.Go(func() {
			key, err := st.CodeKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = key
		})
	}
	wg.Wait()
	last, err := handles[len(handles)-1].AccessStore().CodeKey(ctx)
	must(t, err)
	keys[len(keys)-1] = last
	for _, key := range keys {
		if len(key) < 32 || !bytes.Equal(key, keys[0]) {
			t.Fatalf("keys %x", keys)
		}
	}
}
