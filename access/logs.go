package access

import (
	"context"
	"strings"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// CreateLogRequest checks a visitor in by hand (method manual).
type CreateLogRequest struct {
	Visitor       Visitor    `json:"visitor" doc:"Who arrives; name is required."`
	Host          *Host      `json:"host,omitempty" doc:"Who they visit."`
	Site          string     `json:"site" minLength:"1" maxLength:"100" example:"lekki-gardens" doc:"Where the visit is."`
	Gate          string     `json:"gate,omitempty" maxLength:"100" example:"North gate" doc:"The gate they came through."`
	Purpose       string     `json:"purpose,omitempty" maxLength:"500" example:"Parcel delivery" doc:"Why they visit."`
	ExpectedUntil clock.Time `json:"expected_until,omitempty" doc:"When the visitor should leave; later than that is an overstay."`
	Notes         string     `json:"notes,omitempty" maxLength:"2000" example:"Visitor badge 14" doc:"Notes for the log."`
}

// CheckoutRequest closes a visit.
type CheckoutRequest struct {
	CheckedOutAt clock.Time `json:"checked_out_at,omitempty" doc:"Default: now. Not before the check-in, not in the future."`
	Notes        string     `json:"notes,omitempty" maxLength:"2000" example:"Left a parcel at reception" doc:"Notes added to the log."`
}

// CreateLog checks a visitor in without a code.
func (s *Service) CreateLog(ctx context.Context, tenant auth.Tenant, req CreateLogRequest) (*AccessLog, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	now := clock.Stamp(s.now)
	if err := checkSite("site", req.Site); err != nil {
		return nil, err
	}
	visitor, err := checkVisitor(req.Visitor)
	if err != nil {
		return nil, err
	}
	host, err := checkHost(req.Host)
	if err != nil {
		return nil, err
	}
	gate, err := optionalText("gate", req.Gate, 100)
	if err != nil {
		return nil, err
	}
	purpose, err := optionalText("purpose", req.Purpose, 500)
	if err != nil {
		return nil, err
	}
	notes, err := optionalText("notes", req.Notes, 2000)
	if err != nil {
		return nil, err
	}
	expected := req.ExpectedUntil.Time
	if !expected.IsZero() && !expected.After(now) {
		return nil, setyerr.Invalidf("expected_until", "must be in the future")
	}
	l := &AccessLog{
		ID: s.newID("log"), Site: strings.TrimSpace(req.Site), Gate: gate, Visitor: visitor, Host: host, Purpose: purpose,
		Method: MethodManual, Status: CheckedIn, CheckedInAt: clock.At(now), ExpectedUntil: clock.At(expected.UTC().Truncate(time.Millisecond)),
		Notes: notes, CreatedAt: clock.At(now), UpdatedAt: clock.At(now), OrgID: tenant.OrgID, Environment: tenant.Env,
	}
	ev, err := s.event(TypeCheckedIn, l.ID, &l.Sequence, tenant, now, map[string]any{"access_log": l})
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateLog(ctx, l, ev); err != nil {
		return nil, err
	}
	s.notify(ctx, []outbox.Event{ev})
	return l, nil
}

var errLogNotFound = setyerr.E(setyerr.NotFound, "Access log not found")

// ErrLogNotFound is what stores return for a log the tenant cannot see.
var ErrLogNotFound = errLogNotFound

// Log returns the tenant's log id.
func (s *Service) Log(ctx context.Context, tenant auth.Tenant, id string) (*AccessLog, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("log", id) {
		return nil, errLogNotFound
	}
	return s.store.GetLog(ctx, tenant, id)
}

// Checkout closes a visit; a visit already closed is a Conflict.
func (s *Service) Checkout(ctx context.Context, tenant auth.Tenant, id string, req CheckoutRequest) (*AccessLog, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("log", id) {
		return nil, errLogNotFound
	}
	now := clock.Stamp(s.now)
	out := req.CheckedOutAt.Time.UTC().Truncate(time.Millisecond)
	if req.CheckedOutAt.IsZero() {
		out = now
	}
	if out.After(now) {
		return nil, setyerr.Invalidf("checked_out_at", "must not be in the future")
	}
	notes, err := optionalText("notes", req.Notes, 2000)
	if err != nil {
		return nil, err
	}
	var events []outbox.Event
	l, err := s.store.UpdateLog(ctx, tenant, id, func(l *AccessLog) ([]outbox.Event, error) {
		if l.Status != CheckedIn {
			return nil, setyerr.E(setyerr.Conflict, "visitor already checked out at %s", l.CheckedOutAt.Format(clock.Layout))
		}
		if out.Before(l.CheckedInAt.Time) {
			return nil, setyerr.Invalidf("checked_out_at", "must not be before the check-in (%s)", l.CheckedInAt.Format(clock.Layout))
		}
		d := int64(out.Sub(l.CheckedInAt.Time) / time.Second)
		l.Status, l.CheckedOutAt, l.DurationSeconds, l.UpdatedAt = CheckedOut, clock.At(out), &d, clock.At(now)
		if notes != nil {
			l.Notes = notes
		}
		ev, err := s.event(TypeCheckedOut, l.ID, &l.Sequence, tenant, now, map[string]any{"access_log": l})
		events = []outbox.Event{ev}
		return events, err
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, events)
	return l, nil
}

// Logs returns a page of the tenant's logs, newest check-in first.
func (s *Service) Logs(ctx context.Context, tenant auth.Tenant, f LogFilter) ([]*AccessLog, int, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Status != "" && f.Status != CheckedIn && f.Status != CheckedOut {
		return nil, 0, setyerr.Invalidf("status", "must be checked_in or checked_out")
	}
	if err := checkText("search", f.Search, 100); err != nil {
		return nil, 0, err
	}
	f.Search = strings.TrimSpace(f.Search)
	return s.store.ListLogs(ctx, tenant, f)
}

// CurrentVisitors lists who is on site now, longest there first.
func (s *Service) CurrentVisitors(ctx context.Context, tenant auth.Tenant, site string) ([]CurrentVisitor, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if err := checkText("site", site, 100); err != nil {
		return nil, err
	}
	logs, err := s.store.OnSite(ctx, tenant, strings.TrimSpace(site))
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]CurrentVisitor, 0, len(logs))
	for _, l := range logs {
		out = append(out, CurrentVisitor{
			LogID: l.ID, Visitor: l.Visitor, Host: l.Host, Site: l.Site, Gate: l.Gate, CheckedInAt: l.CheckedInAt,
			OnSiteSeconds: int64(now.Sub(l.CheckedInAt.Time) / time.Second), ExpectedUntil: l.ExpectedUntil,
			Overstayed: !l.ExpectedUntil.IsZero() && now.After(l.ExpectedUntil.Time),
		})
	}
	return out, nil
}

// Stats summarizes visits checked in within [from, to] (default: the last
// 30 days), of one site or all.
func (s *Service) Stats(ctx context.Context, tenant auth.Tenant, site string, from, to time.Time) (*Stats, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if err := checkText("site", site, 100); err != nil {
		return nil, err
	}
	now := clock.Stamp(s.now)
	from, to, err := validate.Window(from, to, now)
	if err != nil {
		return nil, err
	}
	st, err := s.store.LogStats(ctx, tenant, strings.TrimSpace(site), from, to, now)
	if err != nil {
		return nil, err
	}
	st.From, st.To = clock.At(from), clock.At(to)
	st.PeakHour = peakHour(st.ByHour)
	return st, nil
}

// VisitDurations sets the mean and median visit from durations in seconds,
// sorted: the median of an even count is the mean of the middle two.
// Adapters that compute in SQL follow the same definitions.
func VisitDurations(st *Stats, sorted []int64) {
	n := len(sorted)
	if n == 0 {
		return
	}
	var sum float64
	for _, d := range sorted {
		sum += float64(d)
	}
	avg := sum / float64(n)
	med := float64(sorted[(n-1)/2])
	if n%2 == 0 {
		med = (float64(sorted[n/2-1]) + float64(sorted[n/2])) / 2
	}
	st.AverageVisitSeconds, st.MedianVisitSeconds = &avg, &med
}

// peakHour is the busiest hour, the earliest on ties; nil without entries.
func peakHour(byHour []int) *int {
	var peak *int
	for h, c := range byHour {
		if c > 0 && (peak == nil || c > byHour[*peak]) {
			v := h
			peak = &v
		}
	}
	return peak
}
