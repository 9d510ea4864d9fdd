package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/setyerr"
)

// Authenticator maps a host service's own request to the principal Sety
// acts for, when Sety is mounted in a service that authenticates its users
// itself (a session, a JWT, a client certificate): the host reads its
// credential from r and names the Sety organization (created with
// CreateOrganization), the environment, the scopes and the plan. r is the
// request as the host's router received it, with the context the host's
// own middleware gave it; its body must not be read.
//
// An error refuses the request: 401 with the error's text, or the status of
// a setyerr error's kind (setyerr.Forbidden: 403). A nil principal with no
// error is a 401 too.
type Authenticator func(r *http.Request) (*Principal, error)

// hostAuth authenticates through a host's Authenticator. It reads each
// organization's status at most once per cache lifetime, so a suspension
// reaches the host's requests as it reaches API keys.
type hostAuth struct {
	authn Authenticator
	store Store
	now   clock.Func
	ttl   time.Duration // <0: no cache

	mu   sync.Mutex
	orgs map[string]orgStatus
}

type orgStatus struct {
	status OrgStatus
	read   time.Time
}

// maxCachedOrgs bounds the organization cache; past it, it starts over.
const maxCachedOrgs = 10_000

func newHostAuth(authn Authenticator, store Store, now clock.Func, ttl time.Duration) *hostAuth {
	if authn == nil {
		return nil
	}
	if ttl == 0 {
		ttl = DefaultKeyCacheTTL
	}
	return &hostAuth{authn: authn, store: store, now: now, ttl: ttl, orgs: map[string]orgStatus{}}
}

// authenticate returns the principal the host's authenticator gives the
// request, checked.
func (h *hostAuth) authenticate(r *http.Request) (*Principal, error) {
	given, err := h.authn(r)
	if err != nil {
		var kind *setyerr.Error
		if errors.As(err, &kind) {
			return nil, err
		}
		return nil, setyerr.E(setyerr.Unauthenticated, "%s", err.Error())
	}
	if given == nil {
		return nil, setyerr.E(setyerr.Unauthenticated, "not authenticated")
	}
	p := *given
	p.Scopes = slices.Clone(given.Scopes)
	p.KeyID, p.Session, p.ParentKeyID = "", false, ""
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("the host's authenticator returned %w", err)
	}
	if err := h.checkOrganization(r.Context(), p.OrgID); err != nil {
		return nil, err
	}
	return &p, nil
}

// check reports what a host's principal lacks. It is a host's bug, so the
// error is internal: logged, and a 500 to the caller.
func (p *Principal) check() error {
	if err := p.Tenant.Validate(); err != nil {
		return fmt.Errorf("a principal without a valid tenant: %w", err)
	}
	if !p.Plan.Valid() {
		return fmt.Errorf("a principal of plan %q: must be starter, growth or enterprise", p.Plan)
	}
	for _, s := range p.Scopes {
		if !s.Valid() {
			return fmt.Errorf("a principal holding the unknown scope %q", s)
		}
	}
	return nil
}

// checkOrganization refuses a suspended organization (402) and one Sety
// does not know (a host's wiring bug: 500, logged).
func (h *hostAuth) checkOrganization(ctx context.Context, id string) error {
	now := h.now()
	h.mu.Lock()
	e, ok := h.orgs[id]
	h.mu.Unlock()
	if !ok || h.ttl < 0 || now.Sub(e.read) >= h.ttl {
		org, err := h.store.GetOrganization(ctx, id)
		if setyerr.Is(err, setyerr.NotFound) {
			return fmt.Errorf("the host's authenticator named organization %q, which Sety does not know: create it with Auth.CreateOrganization", id)
		}
		if err != nil {
			return fmt.Errorf("look up organization %s: %w", id, err)
		}
		e = orgStatus{status: org.Status, read: now}
		h.mu.Lock()
		if len(h.orgs) >= maxCachedOrgs {
			clear(h.orgs)
		}
		h.orgs[id] = e
		h.mu.Unlock()
	}
	if e.status != Active {
		return setyerr.E(setyerr.PaymentRequired, "organization is suspended")
	}
	return nil
}

// forget drops what the cache holds of organization id (its status changed
// through this process).
func (h *hostAuth) forget(id string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	delete(h.orgs, id)
	h.mu.Unlock()
}

// Credential names what authenticated p, for error messages.
func (p *Principal) Credential() string {
	if p.KeyID == "" {
		return "the principal"
	}
	return "API key"
}
