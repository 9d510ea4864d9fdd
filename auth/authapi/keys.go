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

// CreateAPIKeyRequest issues a key in the caller's environment.
type CreateAPIKeyRequest struct {
	Name      string       `json:"name" minLength:"1" maxLength:"100" example:"checkout service" doc:"Your name for the key, 1–100 characters."`
	Scopes    []auth.Scope `json:"scopes" minItems:"1" maxItems:"20" doc:"Scopes the key holds; * is all." example:"[\"incidents:read\",\"incidents:write\"]"`
	ExpiresAt clock.Time   `json:"expires_at,omitempty" example:"2027-01-01T00:00:00.000Z" doc:"Optional, in the future."`
}

// CreateAPIKeyResponse is the only answer that shows the key.
type CreateAPIKeyResponse struct {
	APIKey *auth.APIKey `json:"api_key" nullable:"false" doc:"The new key's record."`
	Key    string       `json:"key" example:"sety_test_3fa9c2d18e4b7a6509c1d2e3f4a5b6c7" doc:"The key. Shown only now: Sety keeps its SHA-256."`
}

// APIKeyResponse wraps one key.
type APIKeyResponse struct {
	APIKey *auth.APIKey `json:"api_key" nullable:"false" doc:"The key's record."`
}

type createKeyInput struct{ Body CreateAPIKeyRequest }

// KeyIDParam is the path parameter of operations on one API key.
type KeyIDParam struct {
	KeyID string `path:"keyId" maxLength:"64" example:"key_a1b2c3d4e5f6g7h8" doc:"The API key id."`
}

// RegisterKeys mounts the API key operations on api.
func RegisterKeys(api huma.API, svc *auth.Service, log *slog.Logger) {
	Enums(api.OpenAPI().Components.Schemas)
	const tag = "API keys"
	scope := string(auth.KeysWrite)
	huma.Register(api, huma.Operation{
		OperationID: "create-api-key", Method: http.MethodPost, Path: "/api-keys", Tags: []string{tag}, Summary: "Create API key",
		Description: "Issues a key of the caller's environment (a test key makes test keys). The key is in this response only. " +
			"A key grants only scopes it holds itself (403 otherwise); only a `*` key grants `*`.",
		Metadata: httpapi.Scope(scope), DefaultStatus: http.StatusCreated, Errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge},
	}, httpapi.Errors(log, func(ctx context.Context, in *createKeyInput) (*httpapi.Output[CreateAPIKeyResponse], error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, err
		}
		k, secret, err := svc.IssueKeyAs(ctx, p, auth.KeySpec{Name: in.Body.Name, Scopes: in.Body.Scopes, ExpiresAt: in.Body.ExpiresAt.Time})
		return httpapi.Reply(CreateAPIKeyResponse{APIKey: k, Key: secret}, err)
	}))
	huma.Register(api, huma.Operation{
		OperationID: "list-api-keys", Method: http.MethodGet, Path: "/api-keys", Tags: []string{tag}, Summary: "List API keys",
		Description: "Returns this environment's keys, newest first, revoked ones included (never the keys themselves). " +
			"The records of console sessions (`POST /sessions`) are listed too, named \"Console session of key_...\": their `parent_key_id` " +
			"is the API key that started them (null for an API key). A session's record is deleted 7 days (by default) after the session ended.",
		Metadata: httpapi.Scope(scope), Errors: []int{http.StatusBadRequest},
	}, httpapi.Errors(log, Handle(func(ctx context.Context, tenant auth.Tenant, in *httpapi.PageQuery) (*httpapi.ListOutput[*auth.APIKey], error) {
		items, total, err := svc.Keys(ctx, tenant, in.Offset(), in.Limit)
		return httpapi.List(*in, items, total, err)
	})))
	huma.Register(api, huma.Operation{
		OperationID: "revoke-api-key", Method: http.MethodDelete, Path: "/api-keys/{keyId}", Tags: []string{tag}, Summary: "Revoke API key",
		Description: "Revokes a key at once; requests with it get 401, and so do the console sessions started with it " +
			"(revoked with it, in the same write). A key cannot revoke itself, nor a session the key that started it (409), " +
			"nor a key holding a scope it does not hold itself (403). Revoking a key revoked already changes nothing but " +
			"ends any session of it still running.",
		Metadata: httpapi.Scope(scope), Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, httpapi.Errors(log, func(ctx context.Context, in *KeyIDParam) (*httpapi.Output[APIKeyResponse], error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, err
		}
		k, err := svc.RevokeKeyAs(ctx, p, in.KeyID)
		return httpapi.Reply(APIKeyResponse{APIKey: k}, notFoundIn(err, p.Env))
	}))
}
