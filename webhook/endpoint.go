package webhook

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/clone"
	"github.com/sety-io/sety/setyerr"
)

// Endpoint statuses.
const (
	Enabled  = "enabled"
	Disabled = "disabled"
)

// EventTypes are the events an endpoint can subscribe to ("incident.*"
// matches every incident event, "*" every event).
var EventTypes = []string{
	"incident.created", "incident.dispatching", "incident.assigned", "incident.responding", "incident.on_scene",
	"incident.resolved", "incident.cancelled", "incident.note_added", "incident.sla_at_risk", "incident.sla_breached",
	"access.checked_in", "access.checked_out", "access.code_revoked", "ping",
}

// Endpoint is a URL that receives a tenant's events.
type Endpoint struct {
	ID             string     `json:"endpoint_id" example:"we_a1b2c3d4e5f6g7h8" doc:"The endpoint's id: we_ and 16 lowercase letters or digits."`
	URL            string     `json:"url" example:"https://example.com/hooks/sety" doc:"Where events are POSTed."`
	Description    *string    `json:"description" example:"Ops dashboard" doc:"Your note about the endpoint; null when none."`
	Events         []string   `json:"events" nullable:"false" example:"[\"incident.*\"]" doc:"Event types, with incident.* or * wildcards."`
	Status         string     `json:"status" enum:"enabled,disabled" doc:"enabled (receives events) or disabled (by you, or by Sety after a 410 or five days of failures)."`
	DisabledReason *string    `json:"disabled_reason" example:"the endpoint answered 410 Gone" doc:"Why Sety disabled it (a 410, or five days of failures); null when enabled or disabled by you."`
	CreatedAt      clock.Time `json:"created_at" doc:"When the endpoint was created."`
	UpdatedAt      clock.Time `json:"updated_at" doc:"When it last changed."`
	// PendingDeliveries is filled by the Service from Store.PendingCounts
	// when it answers with the endpoint; stores neither keep nor fill it.
	PendingDeliveries int `json:"pending_deliveries" minimum:"0" example:"0" doc:"How many deliveries to this endpoint wait for their first attempt or a retry, in flight ones included: its backlog, as of this answer. A backlog that keeps growing means the endpoint is failing, paused or disabled; its deliveries say why."`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
	// Secret signs deliveries. After a rotation PreviousSecret signs
	// alongside until PreviousExpiresAt, so receivers can switch over.
	Secret            string    `json:"-"`
	PreviousSecret    string    `json:"-"`
	PreviousExpiresAt time.Time `json:"-"`
	// FailingSince is the first failed attempt since the last success.
	FailingSince time.Time `json:"-"`
	// Failures counts the attempts failed in a row since the last success.
	// From Config.Breaker.After of them on, every failure pauses the
	// endpoint: no attempt starts before PausedUntil, and then one at a
	// time (a probe) until one succeeds.
	Failures    int       `json:"-"`
	PausedUntil time.Time `json:"-"`
}

// Tenant returns the tenant that owns the endpoint.
func (e *Endpoint) Tenant() auth.Tenant { return auth.Tenant{OrgID: e.OrgID, Env: e.Environment} }

// Clone returns a deep copy.
func (e *Endpoint) Clone() *Endpoint {
	c := *e
	c.Events = slices.Clone(e.Events)
	c.Description = clone.Ptr(e.Description)
	c.DisabledReason = clone.Ptr(e.DisabledReason)
	return &c
}

// Wants reports whether the endpoint subscribes to events of type typ.
func (e *Endpoint) Wants(typ string) bool {
	for _, f := range e.Events {
		if f == "*" || f == typ || strings.HasSuffix(f, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(f, "*")) {
			return true
		}
	}
	return false
}

// secrets returns the secrets that sign a delivery at now.
func (e *Endpoint) secrets(now time.Time) []string {
	if e.PreviousSecret != "" && now.Before(e.PreviousExpiresAt) {
		return []string{e.Secret, e.PreviousSecret}
	}
	return []string{e.Secret}
}

// validEventFilter reports whether f names an event type or a wildcard.
func validEventFilter(f string) bool {
	if f == "*" || slices.Contains(EventTypes, f) {
		return true
	}
	prefix, ok := strings.CutSuffix(f, ".*")
	return ok && slices.ContainsFunc(EventTypes, func(t string) bool { return strings.HasPrefix(t, prefix+".") })
}

func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, setyerr.Invalidf("events", "must name at least one event type or wildcard")
	}
	if len(events) > 50 {
		return nil, setyerr.Invalidf("events", "must have at most 50 entries")
	}
	out := make([]string, 0, len(events))
	for _, f := range events {
		if !validEventFilter(f) {
			return nil, setyerr.Invalidf("events", "unknown event type %q", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// checkURL validates a target URL: https (or http when insecure targets are
// allowed), a host, no credentials, and not a literal non-public address
// unless private targets are allowed. The host is stored as DNS will be
// asked for it: a name in its IDNA lookup form (lower case, full-width
// letters and dots and circled digits mapped, Unicode as punycode), a
// numeric address in its canonical form, so what is checked here is what
// is dialled; a name that does not normalize (a control character, an
// underscore, a bad label) is refused. Names are checked again at connect
// time, after DNS, by the guarded transport.
func checkURL(raw string, cfg Config) (string, error) {
	if len(raw) > 2048 {
		return "", setyerr.Invalidf("url", "must be at most 2048 characters")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return "", setyerr.Invalidf("url", "must be an absolute URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !cfg.AllowInsecure {
			return "", setyerr.Invalidf("url", "must use https%s", hint(cfg.PrivateHint))
		}
	default:
		return "", setyerr.Invalidf("url", "must use https")
	}
	if u.User != nil {
		return "", setyerr.Invalidf("url", "must not carry credentials")
	}
	name, err := lookupForm(u.Hostname())
	if err != nil {
		return "", err
	}
	host, reason := forbiddenHost(name)
	switch {
	case reason == "zoned": // no setting allows it
		return "", setyerr.Invalidf("url", "must not point at a zoned address")
	case reason != "" && !cfg.AllowPrivate:
		return "", setyerr.Invalidf("url", "must not point at a %s address%s", reason, hint(cfg.PrivateHint))
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment = ""
	return u.String(), nil
}

// lookupForm returns a URL's host as a resolver is asked for it: an IP
// literal as it is, a name through IDNA's lookup profile (UTS #46 mapping,
// STD3 rules).
func lookupForm(host string) (string, error) {
	if _, err := netip.ParseAddr(host); err == nil {
		return host, nil
	}
	name, err := idna.Lookup.ToASCII(host)
	if err != nil || strings.Trim(name, ".") == "" {
		return "", setyerr.Invalidf("url", "host %.100q is not a valid domain name", host)
	}
	return name, nil
}

// hint is the operator's advice appended to a refusal that configuration
// could lift (Config.PrivateHint).
func hint(h string) string {
	if h == "" {
		return ""
	}
	return " (" + h + ")"
}
