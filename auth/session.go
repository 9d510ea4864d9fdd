package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/loop"
	"github.com/sety-io/sety/setyerr"
)

// A browser page (the operations console) signs in with a session, so it
// never keeps an API key: it presents a key once, and gets back an HttpOnly
// cookie holding a session credential. The credential is a short-lived key
// in the key store (its scopes the presenting key's, expires_at set, its
// parent_key_id the presenting key), so sessions need no table of their
// own, work on every instance that shares the store, show in the key list,
// end on sign-out by revocation, and end with the key that started them
// (see "Sessions" in doc.go).
//
// The cookie is only ever accepted from the server's own pages: it is
// SameSite=Strict, a request whose Sec-Fetch-Site or Origin says it comes
// from another site is refused, and a write must carry the CSRFHeader,
// which a cross-site page cannot send without a CORS preflight this server
// never grants.

// The session cookie, the header writes through it need, how long a
// session lasts by default (a long shift), and how long the record of an
// ended session is kept by default.
const (
	SessionCookie           = "sety_session"
	CSRFHeader              = "X-Sety-CSRF"
	DefaultSessionTTL       = 12 * time.Hour
	DefaultSessionRetention = 7 * 24 * time.Hour
)

// How often Run purges the records of ended sessions, and how many one
// store call deletes at most: a small batch holds SQLite's writer briefly,
// so requests keep committing between batches.
const (
	sessionPurgeEvery = time.Hour
	sessionPurgeBatch = 1000
)

// sessionName names a session's credential after the key that started it,
// so the key list says where each session came from.
func sessionName(keyID string) string { return "Console session of " + keyID }

// StartSession issues the session credential of the principal p, which
// must have presented an API key (a session's credential cannot start
// another session, however it is sent). The credential holds p's scopes,
// records p's key as its parent, and expires after Config.SessionTTL, or
// with p's key if that is sooner; revoking p's key ends it. The secret is
// returned this once.
func (s *Service) StartSession(ctx context.Context, p *Principal) (*APIKey, string, error) {
	if p.Session || p.ParentKeyID != "" {
		return nil, "", setyerr.E(setyerr.Forbidden, "a session cannot start another: sign in with an API key")
	}
	if p.KeyID == "" { // a host's Authenticator, not a key, signed the request in
		return nil, "", setyerr.E(setyerr.Forbidden, "a session is started with an API key; this server authenticates its requests itself")
	}
	expires := clock.Stamp(s.now).Add(s.sessionTTL)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(expires) {
		expires = p.ExpiresAt
	}
	return s.IssueKey(ctx, p.Tenant, KeySpec{Name: sessionName(p.KeyID), Scopes: p.Scopes, ExpiresAt: expires, parent: p.KeyID})
}

// parentHolds checks, for a session's credential k read from the store,
// that the API key that started it still lets it work at now: that key is
// of k's tenant, neither revoked nor expired, and holds every scope of k.
// It is nil for an API key, and errUnauthenticated (the answer to every
// unusable key) when the session has ended with its key. This is the rule
// that ends sessions with their key, on every instance, whatever revoked
// the key; the cascade of RevokeAPIKey only records it (doc.go).
func (s *Service) parentHolds(ctx context.Context, k *APIKey, now time.Time) error {
	id := k.Parent()
	if id == "" {
		return nil
	}
	parent, err := s.store.GetAPIKey(ctx, id)
	if setyerr.Is(err, setyerr.NotFound) {
		return errUnauthenticated
	}
	if err != nil {
		return fmt.Errorf("look up the key of session %s: %w", k.ID, err)
	}
	switch {
	case parent.Tenant() != k.Tenant(), !parent.RevokedAt.IsZero(),
		!parent.ExpiresAt.IsZero() && !now.Before(parent.ExpiresAt.Time):
		return errUnauthenticated
	}
	if missing := (&Principal{Scopes: parent.Scopes}).lacks(k.Scopes); missing != "" {
		return errUnauthenticated
	}
	return nil
}

// PurgeSessions deletes the records of sessions that ended more than
// Config.SessionRetention ago (expired, or revoked: signed out or ended
// with their key), a batch at a time until none is left, and returns how
// many it deleted. API keys are never deleted, however long ago they were
// revoked: their records stay for the tenant's audit. Instances sharing a
// store may purge at once: each deletes what is there to delete, none
// waits for another. Run calls it when it starts and every hour; tests
// call it after moving the clock.
func (s *Service) PurgeSessions(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.purgeSessionsOnce(ctx)
		total += n
		if err != nil || n < sessionPurgeBatch {
			return total, err
		}
	}
}

func (s *Service) purgeSessionsOnce(ctx context.Context) (int, error) {
	if s.sessionRetention < 0 {
		return 0, nil
	}
	n, err := s.store.PurgeSessions(ctx, s.now().Add(-s.sessionRetention), sessionPurgeBatch)
	if err != nil {
		return n, fmt.Errorf("purge ended sessions: %w", err)
	}
	return n, nil
}

// runSessionPurge purges every sessionPurgeEvery, and once at the start,
// until ctx ends.
func (s *Service) runSessionPurge(ctx context.Context) {
	if s.sessionRetention < 0 {
		return
	}
	start := make(chan struct{}, 1)
	start <- struct{}{} // a server restarted daily still purges
	loop.Run(ctx, loop.Loop{Name: "purge ended sessions", Every: sessionPurgeEvery, Wake: start, Log: s.log},
		func(ctx context.Context) (bool, error) {
			n, err := s.purgeSessionsOnce(ctx)
			return n == sessionPurgeBatch, err
		})
}

// EndSession revokes the session the principal signed in with: from the
// next request on (on other instances: within their KeyCacheTTL) its
// cookie is refused. A principal authenticated with an API key is a
// Conflict: keys are revoked through the key operations.
func (s *Service) EndSession(ctx context.Context, p *Principal) (*APIKey, error) {
	if !p.Session {
		return nil, setyerr.E(setyerr.Conflict, "the request was not made with a session: revoke API keys with DELETE /api-keys/{keyId}")
	}
	return s.RevokeKey(ctx, p.Tenant, p.KeyID)
}
