package auth

import (
	"net/http"
	"time"
)

// What the HTTP layer (authapi) reads of the service to authenticate a
// request.

// ErrUnauthenticated is the answer to a request without a usable API key.
var ErrUnauthenticated = errUnauthenticated

// AuthenticatesRequests reports whether the host's Authenticator
// (Config.Authenticator), not API keys, authenticates requests.
func (s *Service) AuthenticatesRequests() bool { return s.host != nil }

// AuthenticateRequest returns the principal the host's Authenticator gives
// r, checked: a principal of a valid tenant, plan and scopes, whose
// organization exists and is not suspended. Only with Config.Authenticator.
func (s *Service) AuthenticateRequest(r *http.Request) (*Principal, error) {
	return s.host.authenticate(r)
}

// Now is the time by the service's clock (Config.Now).
func (s *Service) Now() time.Time { return s.now() }
