package auth

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/httpapi"
)

// CreateAPIKeyRequest issues a key in the caller's environment.
type CreateAPIKeyRequest struct {
	Name      string     `json:"name" minLength:"1" maxLength:"100" example:"checkout service"`
	Scopes    []Scope    `json:"scopes" minItems:"1" maxItems:"20" doc:"Scopes the key holds; * is all." example:"[\"incidents:read\",\"incidents:write\"]"`
	ExpiresAt clock.Time `json:"expires_at,omitempty" doc:"Optional, in the future."`
}

// CreateAPIKeyResponse is the only answer that shows the key.
type CreateAPIKeyResponse struct {
	APIKey *APIKey `json:"api_key"`
	Key    string  `json:"key" example:"sety_test_3fa9c2d18e4b7a6509c1d2e3f4a5b6c7" doc:"The key. Shown only now: Sety keeps its SHA-256."`
}

// APIKeyResponse wraps one key.
type APIKeyResponse struct {
	APIKey *APIKey `json:"api_key"`
}

type createKeyInput struct{ Body CreateAPIKeyRequest }
type createKeyOutput struct {
	Status int
	Body   CreateAPIKeyResponse
}
type listKeysInput struct{ httpapi.PageQuery }
type listKeysOutput struct {
	Body *httpapi.PaginatedResponse[*APIKey]
}
type keyPath struct {
	KeyID string `path:"keyId" maxLength:"64" example:"key_a1b2c3d4e5f6g7h8"`
}
type keyOutput struct{ Body APIKeyResponse }

// RegisterKeys mounts the API key operations on api.
func RegisterKeys(api huma.API, svc *Service, log *slog.Logger) {
	const tag = "API keys"
	scope := string(KeysWrite)
	httpapi.Register(api, httpapi.Spec{
		ID: "create-api-key", Method: http.MethodPost, Path: "/api-keys", Tag: tag, Summary: "Create API key",
		Description: "Issues a key of the caller's environment (a test key makes test keys). The key is in this response only.",
		Scope:       scope, Status: http.StatusCreated, Errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge},
	}, Handle(log, func(ctx context.Context, tenant Tenant, in *createKeyInput) (*createKeyOutput, error) {
		k, secret, err := svc.IssueKey(ctx, tenant, KeySpec{Name: in.Body.Name, Scopes: in.Body.Scopes, ExpiresAt: in.Body.ExpiresAt.Time})
		if err != nil {
			return nil, err
		}
		return &createKeyOutput{Status: http.StatusCreated, Body: CreateAPIKeyResponse{APIKey: k, Key: secret}}, nil
	}))
	httpapi.Register(api, httpapi.Spec{
		ID: "list-api-keys", Method: http.MethodGet, Path: "/api-keys", Tag: tag, Summary: "List API keys",
		Description: "Returns this environment's keys, newest first, revoked ones included (never the keys themselves).",
		Scope:       scope, Errors: []int{http.StatusBadRequest},
	}, Handle(log, func(ctx context.Context, tenant Tenant, in *listKeysInput) (*listKeysOutput, error) {
		items, total, err := svc.Keys(ctx, tenant, in.Offset(), in.Limit)
		if err != nil {
			return nil, err
		}
		return &listKeysOutput{Body: httpapi.NewPage(items, in.PageQuery, total)}, nil
	}))
	httpapi.Register(api, httpapi.Spec{
		ID: "revoke-api-key", Method: http.MethodDelete, Path: "/api-keys/{keyId}", Tag: tag, Summary: "Revoke API key",
		Description: "Revokes a key at once; requests with it get 401. A key cannot revoke itself (409).",
		Scope:       scope, Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, func(ctx context.Context, in *keyPath) (*keyOutput, error) {
		p, err := FromContext(ctx)
		if err != nil {
			return nil, httpapi.Err(ctx, log, err)
		}
		k, err := svc.RevokeKeyAs(ctx, p, in.KeyID)
		if err != nil {
			return nil, httpapi.Err(ctx, log, err)
		}
		return &keyOutput{Body: APIKeyResponse{APIKey: k}}, nil
	})
}
