package authapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/httpapi"
)

// SessionInfo describes the credential a request was made with.
type SessionInfo struct {
	KeyID       string           `json:"key_id" example:"key_a1b2c3d4e5f6g7h8" doc:"The id of the credential: the session's own key record, or the API key when the request sent one."`
	Environment auth.Environment `json:"environment" doc:"live or test: the data the session sees."`
	Scopes      []auth.Scope     `json:"scopes" nullable:"false" example:"[\"console\"]" doc:"What the credential may do: a session holds the scopes of the key that started it."`
	ExpiresAt   clock.Time       `json:"expires_at" nullable:"true" doc:"When the credential stops working; null: never (an API key without expiry)."`
	Session     bool             `json:"session" doc:"True when the request was authenticated by the session cookie, false for an Authorization header."`
}

// SessionResponse wraps the current credential.
type SessionResponse struct {
	Session SessionInfo `json:"session" doc:"The credential of this request."`
}

type sessionOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie" doc:"The session cookie: HttpOnly, SameSite=Strict, Secure over TLS; on sign-out, the cookie that deletes it."`
	Body      SessionResponse
}

// sessionInput records whether the request came over TLS, for the cookie's
// Secure attribute.
type sessionInput struct{ tls bool }

func (in *sessionInput) Resolve(ctx huma.Context) []error {
	in.tls = overTLS(ctx)
	return nil
}

func infoOf(p *auth.Principal) SessionResponse {
	return SessionResponse{Session: SessionInfo{KeyID: p.KeyID, Environment: p.Env, Scopes: p.Scopes, ExpiresAt: clock.At(p.ExpiresAt), Session: p.Session}}
}

// RegisterSessions mounts the console's sign-in operations on api. The
// cookie is scoped to cookiePath, the API's base path, so the browser
// sends it to the API only.
func RegisterSessions(api huma.API, svc *auth.Service, log *slog.Logger, cookiePath string) {
	Enums(api.OpenAPI().Components.Schemas)
	const tag = "Sessions"
	if cookiePath == "" {
		cookiePath = "/"
	}
	// Any valid key may sign in: the session can do what the key can.
	huma.Register(api, huma.Operation{
		OperationID: "start-session", Method: http.MethodPost, Path: "/sessions", Tags: []string{tag}, Summary: "Sign in: start a browser session",
		Description: "Exchanges the API key of the Authorization header for a session, for web pages served by this server (the operations console): " +
			"the answer sets an HttpOnly, SameSite=Strict cookie (Secure over TLS) that authenticates the API's operations in the key's place " +
			"until it expires (12 h by default, never after the key), is ended with `DELETE /sessions/current`, or the key is revoked " +
			"(every server refuses the session within its key cache's lifetime, 10 s by default; the one that revoked, at once). " +
			"The page then forgets the key. " +
			"The session holds the key's scopes; it is a short-lived key record, listed by `GET /api-keys` as \"Console session of key_...\" " +
			"with the key's id as its `parent_key_id`. " +
			"The cookie is accepted only from the server's own pages (a cross-site `Sec-Fetch-Site` or `Origin` is refused), and a write made with it " +
			"must carry the header `" + auth.CSRFHeader + ": 1`. A session cannot start another, whether its cookie or its credential is sent (403).",
		Metadata: httpapi.Scope(auth.Scopes...), DefaultStatus: http.StatusCreated,
	}, httpapi.Errors(log, func(ctx context.Context, in *sessionInput) (*sessionOutput, error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, err
		}
		key, secret, err := svc.StartSession(ctx, p)
		if err != nil {
			return nil, err
		}
		session := &auth.Principal{Tenant: p.Tenant, KeyID: key.ID, Scopes: key.Scopes, ExpiresAt: key.ExpiresAt.Time, Session: true}
		return &sessionOutput{
			SetCookie: sessionCookie(cookiePath, secret, key.ExpiresAt.Time, in.tls, svc.Now()),
			Body:      infoOf(session),
		}, nil
	}))
	huma.Register(api, huma.Operation{
		OperationID: "get-session", Method: http.MethodGet, Path: "/sessions/current", Tags: []string{tag}, Summary: "Who am I",
		Description: "Describes the credential of the request: a page reloaded in a session learns that it is still signed in, in which environment, " +
			"with which scopes, until when. With an API key it describes the key.",
		Metadata: httpapi.Scope(auth.Scopes...),
	}, httpapi.Errors(log, func(ctx context.Context, _ *struct{}) (*httpapi.Output[SessionResponse], error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(infoOf(p), nil)
	}))
	huma.Register(api, huma.Operation{
		OperationID: "end-session", Method: http.MethodDelete, Path: "/sessions/current", Tags: []string{tag}, Summary: "Sign out: end the session",
		Description: "Ends the session the request was made with: its credential is revoked on the server (every instance refuses it within its " +
			"key cache's lifetime, 10 s by default; this one at once) and the answer deletes the cookie. A request made with an API key is 409: " +
			"revoke keys with `DELETE /api-keys/{keyId}`.",
		Metadata: httpapi.Scope(auth.Scopes...), Errors: []int{http.StatusConflict},
	}, httpapi.Errors(log, func(ctx context.Context, in *sessionInput) (*sessionOutput, error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := svc.EndSession(ctx, p); err != nil {
			return nil, err
		}
		ended := *p
		ended.ExpiresAt = svc.Now()
		return &sessionOutput{SetCookie: sessionCookie(cookiePath, "", ended.ExpiresAt, in.tls, ended.ExpiresAt), Body: infoOf(&ended)}, nil
	}))
}
