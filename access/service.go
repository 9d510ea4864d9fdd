package access

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/ids"
	"github.com/sety-io/sety/internal/defaults"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// Config holds a Service's settings; zero fields get defaults.
type Config struct {
	Now      clock.Func
	NewID    ids.Generator
	Notifier outbox.Notifier
	// OnValidated hears every validation's verdict, for metrics.
	OnValidated func(reason string)
	Logger      *slog.Logger
	// CodeKey keys the hash codes are stored as. Keep it outside the
	// database: with it, a 6-digit code's hash is cheap to reverse. Without
	// one, the service uses a random key kept in the store.
	CodeKey []byte
	// Lockout is the brute-force rule; default 5 guesses (not_found) in
	// 10 min lock a site for 10 min.
	Lockout Lockout
}

// Service issues and validates access codes and keeps access logs.
type Service struct {
	store Store
	cfg   Config
	now   clock.Func
	newID ids.Generator
	log   *slog.Logger
	keyMu sync.Mutex
	key   []byte
}

// NewService returns a Service over store.
func NewService(store Store, cfg Config) *Service {
	s := &Service{store: store, cfg: cfg, now: defaults.Clock(cfg.Now), newID: defaults.IDs(cfg.NewID), log: defaults.Logger(cfg.Logger), key: cfg.CodeKey}
	if s.cfg.Lockout.Failures <= 0 {
		s.cfg.Lockout = Lockout{Failures: 5, Window: 10 * time.Minute, Lock: 10 * time.Minute}
	}
	return s
}

// codeHash is the keyed hash a code is stored and found by; the tenant is
// part of it so equal digits of two tenants never share a hash.
func (s *Service) codeHash(ctx context.Context, tenant auth.Tenant, code string) ([]byte, error) {
	s.keyMu.Lock()
	if s.key == nil {
		k, err := s.store.CodeKey(ctx)
		if err != nil {
			s.keyMu.Unlock()
			return nil, fmt.Errorf("load access code key: %w", err)
		}
		s.key = k
	}
	key := s.key
	s.keyMu.Unlock()
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(tenant.OrgID + "\x00" + string(tenant.Env) + "\x00" + code))
	return mac.Sum(nil), nil
}

// CreateCodeRequest issues a code.
type CreateCodeRequest struct {
	Site       string     `json:"site" minLength:"1" maxLength:"100" example:"lekki-gardens" doc:"The site the code opens."`
	Visitor    Visitor    `json:"visitor" doc:"Who the code is for; name is required."`
	Host       *Host      `json:"host,omitempty" doc:"Who the visitor comes to see."`
	Purpose    string     `json:"purpose,omitempty" maxLength:"500" example:"Parcel delivery" doc:"Why the visitor comes."`
	ValidFrom  clock.Time `json:"valid_from,omitempty" doc:"Default: now."`
	ValidUntil clock.Time `json:"valid_until,omitempty" doc:"Default: 24 hours after valid_from."`
	MaxUses    *int       `json:"max_uses,omitempty" minimum:"1" maximum:"1000" example:"1" doc:"Default: unlimited within the window."`
	Length     int        `json:"length,omitempty" minimum:"4" maximum:"10" example:"6" doc:"Digits in the code, 4–10; default 6."`
}

// maxCodeAttempts bounds the search for digits no active code uses.
const maxCodeAttempts = 20

// CreateCode issues a code and returns it with its digits, shown this once.
func (s *Service) CreateCode(ctx context.Context, tenant auth.Tenant, req CreateCodeRequest) (*AccessCode, string, error) {
	if err := tenant.Validate(); err != nil {
		return nil, "", err
	}
	now := clock.Stamp(s.now)
	if err := checkSite("site", req.Site); err != nil {
		return nil, "", err
	}
	visitor, err := checkVisitor(req.Visitor)
	if err != nil {
		return nil, "", err
	}
	host, err := checkHost(req.Host)
	if err != nil {
		return nil, "", err
	}
	purpose, err := optionalText("purpose", req.Purpose, 500)
	if err != nil {
		return nil, "", err
	}
	from, until := req.ValidFrom.Time, req.ValidUntil.Time
	if from.IsZero() {
		from = now
	}
	if until.IsZero() {
		until = from.Add(24 * time.Hour)
	}
	from, until = from.UTC().Truncate(time.Millisecond), until.UTC().Truncate(time.Millisecond)
	if !until.After(from) {
		return nil, "", setyerr.Invalidf("valid_until", "must be after valid_from")
	}
	if !until.After(now) {
		return nil, "", setyerr.Invalidf("valid_until", "must be in the future")
	}
	if until.Sub(from) > 366*24*time.Hour {
		return nil, "", setyerr.Invalidf("valid_until", "must be within 366 days of valid_from")
	}
	if req.MaxUses != nil && (*req.MaxUses < 1 || *req.MaxUses > 1000) {
		return nil, "", setyerr.Invalidf("max_uses", "must be between 1 and 1000")
	}
	length := req.Length
	if length == 0 {
		length = 6
	}
	if length < 4 || length > 10 {
		return nil, "", setyerr.Invalidf("length", "must be between 4 and 10")
	}
	c := &AccessCode{
		ID: s.newID("acc"), Site: strings.TrimSpace(req.Site), Visitor: visitor, Host: host, Purpose: purpose,
		ValidFrom: clock.At(from), ValidUntil: clock.At(until), MaxUses: req.MaxUses, CreatedAt: clock.At(now),
		OrgID: tenant.OrgID, Environment: tenant.Env,
	}
	for range maxCodeAttempts {
		digits := randomDigits(length)
		if c.Hash, err = s.codeHash(ctx, tenant, digits); err != nil {
			return nil, "", err
		}
		c.CodeHint = "••••" + digits[len(digits)-2:]
		err = s.store.CreateCode(ctx, c, now)
		if errors.Is(err, ErrCodeTaken) {
			continue // those digits are in use: draw again
		}
		if err != nil {
			return nil, "", err
		}
		c.Status = c.StatusAt(now)
		return c, digits, nil
	}
	return nil, "", setyerr.E(setyerr.Conflict, "could not find free %d-digit code; use a longer length", length)
}

// randomDigits draws n decimal digits from crypto/rand, uniformly.
func randomDigits(n int) string {
	var b strings.Builder
	ten := big.NewInt(10)
	for range n {
		d, err := rand.Int(rand.Reader, ten)
		if err != nil {
			panic("access: crypto/rand failed: " + err.Error())
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

var errCodeNotFound = setyerr.E(setyerr.NotFound, "Access code not found")

// ErrCodeNotFound is what stores return for a code the tenant cannot see.
var ErrCodeNotFound = errCodeNotFound

// Code returns the tenant's code id, with its status at now.
func (s *Service) Code(ctx context.Context, tenant auth.Tenant, id string) (*AccessCode, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("acc", id) {
		return nil, errCodeNotFound
	}
	c, err := s.store.GetCode(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	c.Status = c.StatusAt(s.now())
	return c, nil
}

// Codes returns a page of the tenant's codes, newest first.
func (s *Service) Codes(ctx context.Context, tenant auth.Tenant, f CodeFilter) ([]*AccessCode, int, error) {
	if err := tenant.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Status != "" && f.Status != Active && f.Status != Used && f.Status != Expired && f.Status != Revoked {
		return nil, 0, setyerr.Invalidf("status", "must be active, used, expired or revoked")
	}
	f.Now = s.now()
	items, total, err := s.store.ListCodes(ctx, tenant, f)
	for _, c := range items {
		c.Status = c.StatusAt(f.Now)
	}
	return items, total, err
}

// RevokeCode revokes an active code; anything else is a Conflict.
func (s *Service) RevokeCode(ctx context.Context, tenant auth.Tenant, id string) (*AccessCode, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if !ids.Valid("acc", id) {
		return nil, errCodeNotFound
	}
	now := clock.Stamp(s.now)
	var events []outbox.Event
	c, err := s.store.UpdateCode(ctx, tenant, id, func(c *AccessCode) ([]outbox.Event, error) {
		if st := c.StatusAt(now); st != Active {
			return nil, setyerr.E(setyerr.Conflict, "access code is %s and cannot be revoked", st)
		}
		c.RevokedAt = clock.At(now)
		c.Status = Revoked
		ev, err := s.event(TypeCodeRevoked, c.ID, &c.Sequence, c.Tenant(), now, map[string]any{"access_code": c})
		events = []outbox.Event{ev}
		return events, err
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, events)
	c.Status = c.StatusAt(now)
	return c, nil
}

// ValidateRequest is what a gate sends.
type ValidateRequest struct {
	Code    string `json:"code" minLength:"1" maxLength:"32" example:"482913" doc:"The digits the visitor typed."`
	Site    string `json:"site" minLength:"1" maxLength:"100" example:"lekki-gardens" doc:"The site of the gate."`
	Gate    string `json:"gate,omitempty" maxLength:"100" example:"North gate" doc:"The gate, recorded on the visit."`
	CheckIn *bool  `json:"check_in,omitempty" doc:"Default true: a valid code also checks the visitor in, in the same transaction that counts the use."`
}

// Validate checks a code at a gate and, if it is valid and check-in is
// asked, counts the use and opens the visit. The result says why a code
// failed; repeated guesses (codes that match nothing) lock the site.
func (s *Service) Validate(ctx context.Context, tenant auth.Tenant, req ValidateRequest) (*ValidationResult, error) {
	if err := tenant.Validate(); err != nil {
		return nil, err
	}
	if err := checkSite("site", req.Site); err != nil {
		return nil, err
	}
	gate, err := optionalText("gate", req.Gate, 100)
	if err != nil {
		return nil, err
	}
	code := strings.TrimSpace(req.Code)
	if code == "" || len(code) > 32 {
		return nil, setyerr.Invalidf("code", "must be 1 to 32 characters")
	}
	checkIn := req.CheckIn == nil || *req.CheckIn
	now := clock.Stamp(s.now)
	hash, err := s.codeHash(ctx, tenant, code)
	if err != nil {
		return nil, err
	}
	var events []outbox.Event
	res, err := s.store.Validate(ctx, tenant, Validation{Hash: hash, Site: strings.TrimSpace(req.Site), Now: now, Lockout: s.cfg.Lockout},
		func(c *AccessCode) (Decision, error) {
			reason := reasonFor(c, now)
			if reason != ReasonOK || !checkIn {
				return Decision{Reason: reason}, nil
			}
			l := &AccessLog{
				ID: s.newID("log"), Site: c.Site, Gate: gate, Visitor: c.Visitor, Host: c.Host, Purpose: c.Purpose,
				Method: MethodCode, AccessCodeID: &c.ID, Status: CheckedIn, CheckedInAt: clock.At(now),
				ExpectedUntil: c.ValidUntil, CreatedAt: clock.At(now), UpdatedAt: clock.At(now), OrgID: tenant.OrgID, Environment: tenant.Env,
			}
			ev, err := s.event(TypeCheckedIn, l.ID, &l.Sequence, tenant, now, map[string]any{"access_log": l})
			events = []outbox.Event{ev}
			return Decision{Reason: ReasonOK, Log: l, Events: events}, err
		})
	if err != nil {
		return nil, err
	}
	if res.AccessLog != nil {
		s.notify(ctx, events)
	}
	if res.AccessCode != nil {
		res.AccessCode.Status = res.AccessCode.StatusAt(now)
	}
	res.Valid = res.Reason == ReasonOK
	if s.cfg.OnValidated != nil {
		s.cfg.OnValidated(res.Reason)
	}
	return res, nil
}

// reasonFor is the verdict on a code at now, in the order a person at the
// gate needs it: unknown, revoked, used up, not yet, too late.
func reasonFor(c *AccessCode, now time.Time) string {
	switch {
	case c == nil:
		return ReasonNotFound
	case !c.RevokedAt.IsZero():
		return ReasonRevoked
	case c.MaxUses != nil && c.Uses >= *c.MaxUses:
		return ReasonUsedUp
	case now.Before(c.ValidFrom.Time):
		return ReasonNotYetValid
	case !now.Before(c.ValidUntil.Time):
		return ReasonExpired
	}
	return ReasonOK
}

// event advances a subject's sequence and snapshots data into an event.
func (s *Service) event(typ, subject string, seq *int64, tenant auth.Tenant, at time.Time, data any) (outbox.Event, error) {
	*seq++
	b, err := json.Marshal(data)
	if err != nil {
		return outbox.Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return outbox.Event{ID: s.newID("evt"), OrgID: tenant.OrgID, Environment: string(tenant.Env), Type: typ,
		SubjectID: subject, Sequence: *seq, Data: b, CreatedAt: at}, nil
}

func (s *Service) notify(ctx context.Context, events []outbox.Event) {
	if s.cfg.Notifier != nil && len(events) > 0 {
		s.cfg.Notifier.Notify(ctx, events)
	}
}

// Validation helpers, naming the failing field.

func checkText(field, v string, max int) error { return validate.Text(field, v, max) }

func optionalText(field, v string, max int) (*string, error) {
	v = strings.TrimSpace(v)
	if err := checkText(field, v, max); err != nil {
		return nil, err
	}
	if v == "" {
		return nil, nil
	}
	return &v, nil
}

func checkSite(field, site string) error {
	site = strings.TrimSpace(site)
	if site == "" {
		return setyerr.Invalidf(field, "is required")
	}
	return checkText(field, site, 100)
}

func optionalPtr(field string, v *string, max int) (*string, error) {
	if v == nil {
		return nil, nil
	}
	return optionalText(field, *v, max)
}

func checkPhone(field string, v *string) (*string, error) {
	p, err := optionalPtr(field, v, 16)
	if err != nil || p == nil {
		return p, err
	}
	return p, validate.Phone(field, *p)
}

func checkVisitor(v Visitor) (Visitor, error) {
	var out Visitor
	out.Name = strings.TrimSpace(v.Name)
	if out.Name == "" {
		return out, setyerr.Invalidf("visitor.name", "is required")
	}
	if err := checkText("visitor.name", out.Name, 200); err != nil {
		return out, err
	}
	var err error
	if out.Phone, err = checkPhone("visitor.phone", v.Phone); err != nil {
		return out, err
	}
	if out.Email, err = optionalPtr("visitor.email", v.Email, 254); err != nil {
		return out, err
	}
	if out.Email != nil {
		if err := validate.Email("visitor.email", *out.Email); err != nil {
			return out, err
		}
	}
	if out.VehiclePlate, err = optionalPtr("visitor.vehicle_plate", v.VehiclePlate, 20); err != nil {
		return out, err
	}
	return out, nil
}

func checkHost(h *Host) (Host, error) {
	var out Host
	if h == nil {
		return out, nil
	}
	var err error
	if out.Name, err = optionalPtr("host.name", h.Name, 200); err != nil {
		return out, err
	}
	if out.Unit, err = optionalPtr("host.unit", h.Unit, 50); err != nil {
		return out, err
	}
	if out.Phone, err = checkPhone("host.phone", h.Phone); err != nil {
		return out, err
	}
	return out, nil
}
