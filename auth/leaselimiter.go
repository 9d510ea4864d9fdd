package auth

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/defaults"
	"github.com/sety-io/sety/internal/loop"
)

// DefaultLeaseLength is how long a lease of budget lasts unless it is used
// up first (LeaseConfig.Length).
const DefaultLeaseLength = 2 * time.Second

// DefaultMaxLeaseLength is the longest a lease of a tenant far from its
// limit lasts (LeaseConfig.MaxLength).
const DefaultMaxLeaseLength = 30 * time.Second

// leaseAdmissions is how many admissions a lease of a tenant far from its
// limit aims at: such a tenant writes about once per this many requests
// (fewer when an eighth of the limit is less), or once per MaxLength if
// it is slower. At 16, a get with 1,000 tenants each at about an eighth
// of a core's gets spent a tenth of its CPU on the leases' writes, at 64
// still 2-3 %; the slots such a lease holds stay within an eighth of the
// limit, and two instances keep the same share of the plan in the tests'
// simulation (at least 92.6 %) at 16, 32, 64 and 128: the leases this
// sizes are those of tenants far from their limit.
const leaseAdmissions = 128

// LeaseConfig tunes a LeaseLimiter. Zero fields get the defaults.
type LeaseConfig struct {
	// Now is the clock of the sweep that ends expired leases (Take is
	// told the time by its caller). Default: the system clock.
	Now clock.Func
	// Length is how long a lease lasts while its tenant nears its limit
	// (and the first lease of a tenant): an instance that stops serving
	// such a tenant gives back what it holds within 1.25 × Length.
	// Default: DefaultLeaseLength.
	Length time.Duration
	// MaxLength is the longest any lease lasts, which a lease of a tenant
	// using less than half its limit may (its slots are few). A crashed
	// instance's lease counts as used up at its expiry. Default:
	// DefaultMaxLeaseLength; never shorter than Length.
	MaxLength time.Duration
	// Logger receives failures of the background sweep.
	Logger *slog.Logger
	// OnWait, if set, hears of every request that waited for the store
	// because its tenant had no lease open here: what leasing keeps rare
	// (a metric; the sweep's renewals are not counted).
	OnWait func()
}

// LeaseLimiter enforces the plans' limits over a RateLeaseStore shared by
// every instance: it takes budget from the store in leases, a share of a
// tenant's remaining budget in one write, and admits requests from memory
// while the lease lasts. See the package documentation for the rule that
// keeps it exact and for what it costs.
type LeaseLimiter struct {
	store     RateLeaseStore
	now       clock.Func
	length    int64 // ms
	maxLength int64 // ms
	log       *slog.Logger
	onWait    func()

	mu      sync.Mutex
	budgets map[Tenant]*budget

	sweepMu sync.Mutex // one sweep (or release) at a time
	unsent  []LeaseEnd // ends a failed sweep could not write, for the next
}

// NewLeaseLimiter returns the limiter over store. Run it (Sety.Run does)
// so that leases it no longer uses are given back when they expire, and
// all of them when it stops.
func NewLeaseLimiter(store RateLeaseStore, cfg LeaseConfig) *LeaseLimiter {
	if cfg.Length <= 0 {
		cfg.Length = DefaultLeaseLength
	}
	if cfg.MaxLength <= 0 {
		cfg.MaxLength = DefaultMaxLeaseLength
	}
	cfg.MaxLength = max(cfg.MaxLength, cfg.Length)
	return &LeaseLimiter{store: store, now: defaults.Clock(cfg.Now), length: max(4, cfg.Length.Milliseconds()), maxLength: cfg.MaxLength.Milliseconds(),
		log: defaults.Logger(cfg.Logger), onWait: cfg.OnWait, budgets: map[Tenant]*budget{}}
}

// budget is what the limiter knows of one tenant. Its mutex is held across
// a store visit, so concurrent requests of a tenant make one visit.
type budget struct {
	mu      sync.Mutex
	dead    bool    // forgotten by a sweep: look it up again
	limit   int     // the plan's limit at the last request, for a renewal
	lease   lease   // id "" when none is open
	free    int     // the store's unleased budget at the last visit
	reset   int64   // when the counted budget next goes down, at the last visit
	refused int64   // refused from memory until then
	rate    float64 // admissions per ms over the last lease; 0: unknown
	seen    int64   // the last request
}

// lease is an open lease: slots to spend at times in [start, until).
type lease struct {
	id           string
	start, until int64
	slots, used  int
	last         int64 // the latest admission
}

// admits reports whether the lease can admit a request at at.
func (l *lease) admits(at int64) bool {
	return l.id != "" && at >= l.start && at < l.until && l.used < l.slots
}

func (l *lease) end(t Tenant) LeaseEnd {
	return LeaseEnd{Tenant: t, ID: l.id, Used: l.used, Last: l.last}
}

// Take admits a request of tenant at now from the tenant's lease, or asks
// the store for a new one (ending the old one in the same write).
func (l *LeaseLimiter) Take(ctx context.Context, tenant Tenant, limit int, now time.Time) (bool, int, time.Time, error) {
	if limit <= 0 { // a plan that admits nothing needs no lease
		return false, 0, now.Add(Window).UTC(), nil
	}
	at := now.UnixMilli()
	b := l.lock(tenant)
	defer b.mu.Unlock()
	b.seen, b.limit = at, limit
	if b.lease.admits(at) {
		return l.admit(b, at, limit)
	}
	if at < b.refused {
		return false, 0, time.UnixMilli(b.reset).UTC(), nil
	}
	if l.onWait != nil {
		l.onWait()
	}
	if err := l.next(ctx, tenant, b, at, limit, 0); err != nil {
		return false, 0, time.Time{}, err
	}
	if b.lease.id == "" {
		return false, 0, time.UnixMilli(b.reset).UTC(), nil
	}
	return l.admit(b, at, limit)
}

// next ends b's open lease, if any, and takes the tenant's next one at at,
// in one write; b is locked. The lease is sized from the rate the open one
// saw, at least minRate (admissions per ms). With nothing granted, b has no
// lease and refuses from memory for a while.
func (l *LeaseLimiter) next(ctx context.Context, tenant Tenant, b *budget, at int64, limit int, minRate float64) error {
	rate := b.rate
	var end *LeaseEnd
	if b.lease.id != "" {
		e := b.lease.end(tenant)
		end, rate = &e, max(b.lease.rate(at), minRate)
	}
	want, life := l.plan(rate, b.free, limit)
	req := LeaseRequest{Tenant: tenant, ID: ids.New("lse"), At: at, Until: at + life, Want: want, Limit: limit, End: end}
	g, err := l.store.TakeLease(ctx, req)
	if err != nil {
		// An end that may not have been written is sent again with the
		// next request or sweep: ending a lease twice changes nothing.
		return err
	}
	b.rate, b.lease = rate, lease{}
	b.free, b.reset = g.Free, g.Reset
	if g.Slots == 0 {
		// Nothing frees before Reset but leases other instances give back
		// early: ask again after a quarter lease, not on every request.
		b.refused = min(g.Reset, at+max(1, l.length/4))
		return nil
	}
	b.lease = lease{id: req.ID, start: at, until: req.Until, slots: g.Slots}
	return nil
}

// lock returns the tenant's budget, locked.
func (l *LeaseLimiter) lock(tenant Tenant) *budget {
	for {
		l.mu.Lock()
		b := l.budgets[tenant]
		if b == nil {
			b = &budget{}
			l.budgets[tenant] = b
		}
		l.mu.Unlock()
		b.mu.Lock()
		if !b.dead {
			return b
		}
		b.mu.Unlock()
	}
}

// admit spends a slot of b's lease at at.
func (l *LeaseLimiter) admit(b *budget, at int64, limit int) (bool, int, time.Time, error) {
	b.lease.used++
	b.lease.last = max(b.lease.last, at)
	remaining := min(limit, b.lease.slots-b.lease.used+b.free)
	// The reset seen at the last visit, while it is ahead; after it, the
	// latest this lease's own slots can leave the window.
	reset := b.reset
	if reset <= at {
		reset = b.lease.until - 1 + Window.Milliseconds()
	}
	return true, remaining, time.UnixMilli(reset).UTC(), nil
}

// plan returns the size and the length of the lease to ask for. With
// nothing known of the tenant's demand: a twentieth of the limit (a burst
// costs few writes) for Length. Then, from the rate of admissions the
// tenant's last lease saw here: a quarter more slots than that rate needs,
// at most an eighth of the limit (an instance that takes more than it
// serves strands little, and only until the lease ends; and a lease's
// admissions count as late as its last, so a lease spent over a long burst
// holds budget that much longer), for Length — or, while the store had
// half the limit or more unleased at the last visit, long enough to admit
// about leaseAdmissions requests, up to MaxLength: a tenant far from its
// limit writes about once per leaseAdmissions requests (or MaxLength), and
// its small leases cost nobody anything while they last.
func (l *LeaseLimiter) plan(rate float64, free, limit int) (slots int, life int64) {
	ceiling := max(1, limit/8)
	if rate <= 0 {
		return min(max(1, limit/20), ceiling), l.length
	}
	life = l.length
	if free*2 >= limit {
		life = min(max(int64(leaseAdmissions/rate), l.length), l.maxLength)
	}
	return min(max(1, int(math.Ceil(1.25*rate*float64(life)))), ceiling), life
}

// rate is the rate of admissions (per ms) the lease saw, ended at at: over
// its whole length if it expired, else until at (a lease used up waits for
// the next request to end it, so a slow tenant's rate comes out slow).
func (l *lease) rate(at int64) float64 {
	return float64(l.used) / float64(max(1, min(at, l.until)-l.start))
}

// Sweep renews ahead of time the leases of tenants far from their limit
// that admitted requests and end within half a Length (see renewals), ends, in one store write, every
// lease that expired without being renewed (so what it did not use goes
// back at once), and forgets the tenants not seen for a Window. Run calls
// it every quarter lease.
func (l *LeaseLimiter) Sweep(ctx context.Context) error {
	at := l.now().UnixMilli()
	renewed := l.renewals(ctx, at)
	return errors.Join(renewed, l.endLeases(ctx, at, func(b *budget) bool { return at >= b.lease.until }))
}

// maxRenewals caps the renewals a sweep has in flight at once: enough for
// SQLite's group commit to fold them into few commits, few enough not to
// crowd the store.
const maxRenewals = 16

// renewals takes the next lease of every tenant far from its limit (half
// of it or more unleased at the last visit) that made a request in the
// last Window, whose open lease ends within half a Length or has used
// three quarters of its slots, before it ends or runs out (a lease is
// sized for the rate its last one saw, and a tenant's requests come
// unevenly):
// a tenant with steady traffic, even a request a minute, then always finds
// a lease open, and none of its requests — reads included — waits for a
// store write. Without it a lease of a tenant far from its limit often
// ends before its next request (a tenant making a request a minute takes
// a lease with every one), so with many such tenants one request in ten
// waited for a commit, and the latency of reads took that of writes. A
// tenant that stops costs at most two leases more (of one slot each, for
// MaxLength), then none. A renewal is the write the next
// request would have made, made earlier: it ends the lease (giving back
// what it did not use) and takes the next one from the same rule. A
// tenant near its limit is left to its requests: its leases are short and
// small, and ending them early would hold back budget other instances
// could use. Sweep waits for the renewals; a tenant a request is visiting
// the store for is left to it.
func (l *LeaseLimiter) renewals(ctx context.Context, at int64) error {
	l.mu.Lock()
	tenants := make(map[Tenant]*budget, len(l.budgets))
	for t, b := range l.budgets {
		tenants[t] = b
	}
	l.mu.Unlock()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	slots := make(chan struct{}, maxRenewals)
	for t, b := range tenants {
		if !b.mu.TryLock() {
			continue
		}
		active := b.lease.used > 0 || at-b.seen < Window.Milliseconds()
		due := b.lease.until-at <= l.length/2 || b.lease.used*4 >= b.lease.slots*3
		if b.dead || b.lease.id == "" || !active || !due || at >= b.lease.until || b.free*2 < b.limit {
			b.mu.Unlock()
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			defer b.mu.Unlock()
			// A lease that admitted nothing is renewed as for a tenant
			// making a request a Window: one slot, MaxLength.
			if err := l.next(ctx, t, b, at, b.limit, 1/float64(Window.Milliseconds())); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Release ends every open lease in one store write, giving back what was
// not used; later requests take new leases. Run calls it when it stops.
func (l *LeaseLimiter) Release(ctx context.Context) error {
	return l.endLeases(ctx, l.now().UnixMilli(), func(*budget) bool { return true })
}

// endLeases ends the open leases done selects, with any ends a failed
// write left over, in one write.
func (l *LeaseLimiter) endLeases(ctx context.Context, at int64, done func(*budget) bool) error {
	l.sweepMu.Lock()
	defer l.sweepMu.Unlock()
	l.mu.Lock()
	tenants := make(map[Tenant]*budget, len(l.budgets))
	for t, b := range l.budgets {
		tenants[t] = b
	}
	l.mu.Unlock()
	ends := l.unsent
	l.unsent = nil
	for t, b := range tenants {
		if !b.mu.TryLock() {
			continue // a request is visiting the store for it: it renews the lease
		}
		if b.lease.id != "" && done(b) {
			ends = append(ends, b.lease.end(t))
			b.rate, b.lease = b.lease.rate(at), lease{}
		}
		if b.lease.id == "" && at >= b.refused && at-b.seen > Window.Milliseconds() {
			b.dead = true
			l.mu.Lock()
			delete(l.budgets, t)
			l.mu.Unlock()
		}
		b.mu.Unlock()
	}
	if len(ends) == 0 {
		return nil
	}
	if err := l.store.EndLeases(ctx, ends, CountedAfter(at)); err != nil {
		l.unsent = ends // counted in full meanwhile: late, never wrong
		return err
	}
	return nil
}

// Run sweeps every quarter lease until ctx ends, then releases every
// lease.
func (l *LeaseLimiter) Run(ctx context.Context) {
	every := time.Duration(max(1, l.length/4)) * time.Millisecond
	loop.Run(ctx, loop.Loop{Name: "end expired rate-limit leases", Every: every, Log: l.log}, func(ctx context.Context) (bool, error) {
		return false, l.Sweep(ctx)
	})
	if err := l.Release(context.WithoutCancel(ctx)); err != nil {
		l.log.Error("give back rate-limit leases", "error", err)
	}
}
