package memory

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"time"

	"github.com/sety-io/sety/access"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
)

type accessStore Store

type siteKey struct {
	tenant auth.Tenant
	site   string
}

func cloneCode(c *access.AccessCode) *access.AccessCode {
	out := *c
	out.Visitor, out.Host = cloneVisitor(c.Visitor), cloneHost(c.Host)
	out.Purpose, out.MaxUses, out.Hash = clonePtr(c.Purpose), clonePtr(c.MaxUses), slices.Clone(c.Hash)
	return &out
}

func cloneLog(l *access.AccessLog) *access.AccessLog {
	out := *l
	out.Visitor, out.Host = cloneVisitor(l.Visitor), cloneHost(l.Host)
	out.Gate, out.Purpose, out.AccessCodeID, out.Notes = clonePtr(l.Gate), clonePtr(l.Purpose), clonePtr(l.AccessCodeID), clonePtr(l.Notes)
	out.DurationSeconds = clonePtr(l.DurationSeconds)
	return &out
}

func cloneVisitor(v access.Visitor) access.Visitor {
	v.Phone, v.Email, v.VehiclePlate = clonePtr(v.Phone), clonePtr(v.Email), clonePtr(v.VehiclePlate)
	return v
}

func cloneHost(h access.Host) access.Host {
	h.Name, h.Unit, h.Phone = clonePtr(h.Name), clonePtr(h.Unit), clonePtr(h.Phone)
	return h
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (m *accessStore) CodeKey(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.codeKey == nil {
		m.codeKey = make([]byte, 32)
		if _, err := rand.Read(m.codeKey); err != nil {
			return nil, err
		}
	}
	return slices.Clone(m.codeKey), nil
}

func activeAt(c *access.AccessCode, now time.Time) bool { return c.StatusAt(now) == access.Active }

func (m *accessStore) CreateCode(ctx context.Context, c *access.AccessCode, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := checkNew((*Store)(m), m.codes, c.OrgID, c.ID); err != nil {
		return err
	}
	for _, o := range m.codes {
		if o.Tenant() == c.Tenant() && string(o.Hash) == string(c.Hash) && activeAt(o, now) {
			return access.ErrCodeTaken
		}
	}
	m.codes[c.ID] = cloneCode(c)
	return nil
}

func (m *accessStore) GetCode(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := lookup(m.codes, tenant, id, access.ErrCodeNotFound)
	if err != nil {
		return nil, err
	}
	return cloneCode(c), nil
}

func (m *accessStore) ListCodes(ctx context.Context, tenant auth.Tenant, f access.CodeFilter) ([]*access.AccessCode, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	match := matching(m.codes, func(c *access.AccessCode) bool {
		return c.Tenant() == tenant && (f.Site == "" || c.Site == f.Site) && (f.Status == "" || c.StatusAt(f.Now) == f.Status)
	})
	newest := newestFirst(func(c *access.AccessCode) (time.Time, string) { return c.CreatedAt.Time, c.ID })
	items, total := page(match, newest, f.Offset, f.Limit, cloneCode)
	return items, total, nil
}

func (m *accessStore) UpdateCode(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessCode) ([]outbox.Event, error)) (*access.AccessCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := lookup(s.codes, tenant, id, access.ErrCodeNotFound)
	if err != nil {
		return nil, err
	}
	next := cloneCode(cur)
	events, err := change(next)
	if err != nil {
		return nil, err
	}
	if err := s.checkEvents(events); err != nil {
		return nil, err
	}
	next.ID, next.OrgID, next.Environment, next.Hash = cur.ID, cur.OrgID, cur.Environment, cur.Hash
	s.codes[id] = cloneCode(next)
	s.appendEvents(events)
	return next, nil
}

func (m *accessStore) Validate(ctx context.Context, tenant auth.Tenant, v access.Validation, decide func(*access.AccessCode) (access.Decision, error)) (*access.ValidationResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := siteKey{tenant, v.Site}
	if until, ok := s.siteLocks[key]; ok && until.After(v.Now) {
		return &access.ValidationResult{Reason: access.ReasonLocked}, nil
	}
	var code *access.AccessCode
	for _, c := range s.codes {
		if c.Tenant() != tenant || c.Site != v.Site || string(c.Hash) != string(v.Hash) {
			continue
		}
		if code == nil || activeAt(c, v.Now) && !activeAt(code, v.Now) ||
			activeAt(c, v.Now) == activeAt(code, v.Now) && c.CreatedAt.After(code.CreatedAt.Time) {
			code = c
		}
	}
	var view *access.AccessCode
	if code != nil {
		view = cloneCode(code)
	}
	d, err := decide(view)
	if err != nil {
		return nil, err
	}
	res := &access.ValidationResult{Reason: d.Reason, AccessCode: view}
	if d.Reason == access.ReasonOK && d.Log == nil {
		return res, nil
	}
	if d.Reason == access.ReasonOK {
		if code.MaxUses != nil && code.Uses >= *code.MaxUses {
			res.Reason = access.ReasonUsedUp
			return res, nil // a real code, spent: not a guess
		}
		if err := s.checkEvents(d.Events); err != nil {
			return nil, err
		}
		code.Uses++
		view.Uses = code.Uses
		s.logs[d.Log.ID] = cloneLog(d.Log)
		res.AccessLog = cloneLog(d.Log)
		s.appendEvents(d.Events)
		return res, nil
	}
	if code != nil {
		return res, nil // a real code refused (used up, expired...): not a guess
	}
	// A guess counts towards the lockout.
	recent := []time.Time{v.Now}
	for _, at := range s.siteFailures[key] {
		if at.After(v.Now.Add(-v.Lockout.Window)) {
			recent = append(recent, at)
		}
	}
	s.siteFailures[key] = recent
	if len(recent) >= v.Lockout.Failures {
		s.siteLocks[key] = v.Now.Add(v.Lockout.Lock)
		delete(s.siteFailures, key)
	}
	return res, nil
}

func (m *accessStore) CreateLog(ctx context.Context, l *access.AccessLog, ev outbox.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkNew(s, s.logs, l.OrgID, l.ID); err != nil {
		return err
	}
	if err := s.checkEvents([]outbox.Event{ev}); err != nil {
		return err
	}
	s.logs[l.ID] = cloneLog(l)
	s.appendEvents([]outbox.Event{ev})
	return nil
}

func (m *accessStore) GetLog(ctx context.Context, tenant auth.Tenant, id string) (*access.AccessLog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := lookup(m.logs, tenant, id, access.ErrLogNotFound)
	if err != nil {
		return nil, err
	}
	return cloneLog(l), nil
}

func (m *accessStore) UpdateLog(ctx context.Context, tenant auth.Tenant, id string, change func(*access.AccessLog) ([]outbox.Event, error)) (*access.AccessLog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := (*Store)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := lookup(s.logs, tenant, id, access.ErrLogNotFound)
	if err != nil {
		return nil, err
	}
	next := cloneLog(cur)
	events, err := change(next)
	if err != nil {
		return nil, err
	}
	if err := s.checkEvents(events); err != nil {
		return nil, err
	}
	next.ID, next.OrgID, next.Environment = cur.ID, cur.OrgID, cur.Environment
	s.logs[id] = cloneLog(next)
	s.appendEvents(events)
	return next, nil
}

// matchesSearch mirrors the SQLite adapter's case-insensitive LIKE.
func matchesSearch(l *access.AccessLog, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, f := range []*string{&l.Visitor.Name, l.Visitor.Phone, l.Visitor.VehiclePlate, l.Host.Name, l.Host.Unit, l.Purpose} {
		if f != nil && strings.Contains(strings.ToLower(*f), q) {
			return true
		}
	}
	return false
}

func (m *accessStore) ListLogs(ctx context.Context, tenant auth.Tenant, f access.LogFilter) ([]*access.AccessLog, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	match := matching(m.logs, func(l *access.AccessLog) bool {
		return l.Tenant() == tenant && (f.Status == "" || l.Status == f.Status) && (f.Site == "" || l.Site == f.Site) &&
			(f.From.IsZero() || !l.CheckedInAt.Before(f.From)) && (f.To.IsZero() || !l.CheckedInAt.After(f.To)) && matchesSearch(l, f.Search)
	})
	items, total := page(match, newestFirst(checkedIn), f.Offset, f.Limit, cloneLog)
	return items, total, nil
}

// checkedIn is the order key of logs: check-in, then id.
func checkedIn(l *access.AccessLog) (time.Time, string) { return l.CheckedInAt.Time, l.ID }

func (m *accessStore) OnSite(ctx context.Context, tenant auth.Tenant, site string) ([]*access.AccessLog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	in := matching(m.logs, func(l *access.AccessLog) bool {
		return l.Tenant() == tenant && l.Status == access.CheckedIn && (site == "" || l.Site == site)
	})
	return first(in, oldestFirst(checkedIn), len(in), cloneLog), nil
}

func (m *accessStore) LogStats(ctx context.Context, tenant auth.Tenant, site string, from, to, now time.Time) (*access.Stats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &access.Stats{ByMethod: map[string]int{}, ByHour: make([]int, 24), ByWeekday: make([]int, 7)}
	var durations []int64
	for _, l := range m.logs {
		if l.Tenant() != tenant || site != "" && l.Site != site {
			continue
		}
		if l.Status == access.CheckedIn {
			st.CurrentlyOnSite++
		}
		in := l.CheckedInAt.UTC()
		if in.Before(from) || in.After(to) {
			continue
		}
		st.TotalEntries++
		st.ByMethod[l.Method]++
		st.ByHour[in.Hour()]++
		st.ByWeekday[int(in.Weekday())]++
		if l.Status == access.CheckedOut {
			st.CheckedOut++
			durations = append(durations, *l.DurationSeconds)
		}
		if !l.ExpectedUntil.IsZero() && (l.Status == access.CheckedOut && l.CheckedOutAt.After(l.ExpectedUntil.Time) ||
			l.Status == access.CheckedIn && now.After(l.ExpectedUntil.Time)) {
			st.Overstays++
		}
	}
	slices.Sort(durations)
	access.VisitDurations(st, durations)
	return st, nil
}
