package webhook

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/internal/httpapi"
)

// EndpointWithSecret is the answer to a create or a rotation: the only
// times the secret is shown.
type EndpointWithSecret struct {
	Endpoint *Endpoint `json:"endpoint"`
	Secret   string    `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" doc:"Signs deliveries (Standard Webhooks). Shown only now."`
}

// EndpointResponse wraps one endpoint.
type EndpointResponse struct {
	Endpoint *Endpoint `json:"endpoint"`
}

// DeliveryResponse wraps one delivery.
type DeliveryResponse struct {
	Delivery *Delivery `json:"delivery"`
}

type endpointPath struct {
	EndpointID string `path:"endpointId" maxLength:"64" example:"we_a1b2c3d4e5f6g7h8" doc:"The endpoint id."`
}

type createEndpointInput struct{ Body CreateEndpointRequest }
type withSecretOutput struct {
	Status int
	Body   EndpointWithSecret
}
type endpointOutput struct{ Body EndpointResponse }
type listEndpointsInput struct{ httpapi.PageQuery }
type listEndpointsOutput struct {
	Body *httpapi.PaginatedResponse[*Endpoint]
}
type updateEndpointInput struct {
	EndpointID string `path:"endpointId" maxLength:"64" doc:"The endpoint id."`
	Body       UpdateEndpointRequest
}
type deleteOutput struct{ Body EndpointResponse }
type deliveryOutput struct {
	Status int
	Body   DeliveryResponse
}
type listDeliveriesInput struct {
	EndpointID string `path:"endpointId" maxLength:"64" doc:"The endpoint id."`
	Status     string `query:"status" enum:"pending,succeeded,failed" doc:"Only deliveries in this status."`
	httpapi.PageQuery
}
type listDeliveriesOutput struct {
	Body *httpapi.PaginatedResponse[*Delivery]
}
type retryInput struct {
	EndpointID string `path:"endpointId" maxLength:"64" doc:"The endpoint id."`
	DeliveryID string `path:"deliveryId" maxLength:"64" example:"whd_a1b2c3d4e5f6g7h8" doc:"The delivery id."`
}

// Register mounts the webhook operations on api.
func Register(api huma.API, svc *Service, log *slog.Logger) {
	const tag = "Webhooks"
	read, write := string(auth.WebhooksRead), string(auth.WebhooksWrite)
	bad, missing, large := http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge

	httpapi.Register(api, httpapi.Spec{
		ID: "create-webhook", Method: http.MethodPost, Path: "/webhooks", Tag: tag, Summary: "Create webhook endpoint",
		Description: "Registers a URL to receive events of this environment, signed with Standard Webhooks headers. " +
			"The secret is shown only in this response. Deliveries are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.",
		Scope: write, Status: http.StatusCreated, Errors: []int{bad, large},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *createEndpointInput) (*withSecretOutput, error) {
		e, secret, err := svc.CreateEndpoint(ctx, tenant, in.Body)
		if err != nil {
			return nil, err
		}
		return &withSecretOutput{Status: http.StatusCreated, Body: EndpointWithSecret{Endpoint: e, Secret: secret}}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "list-webhooks", Method: http.MethodGet, Path: "/webhooks", Tag: tag, Summary: "List webhook endpoints",
		Description: "Returns this environment's endpoints, oldest first.", Scope: read, Errors: []int{bad},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *listEndpointsInput) (*listEndpointsOutput, error) {
		items, total, err := svc.Endpoints(ctx, tenant, in.Offset(), in.Limit)
		if err != nil {
			return nil, err
		}
		return &listEndpointsOutput{Body: httpapi.NewPage(items, in.PageQuery, total)}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "get-webhook", Method: http.MethodGet, Path: "/webhooks/{endpointId}", Tag: tag, Summary: "Get webhook endpoint",
		Description: "Returns one endpoint (never its secret).", Scope: read, Errors: []int{missing},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *endpointPath) (*endpointOutput, error) {
		e, err := svc.Endpoint(ctx, tenant, in.EndpointID)
		if err != nil {
			return nil, err
		}
		return &endpointOutput{Body: EndpointResponse{Endpoint: e}}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "update-webhook", Method: http.MethodPatch, Path: "/webhooks/{endpointId}", Tag: tag, Summary: "Update webhook endpoint",
		Description: "Changes the URL, events, description or status. Enabling a disabled endpoint resumes its pending deliveries.",
		Scope:       write, Errors: []int{bad, missing, large},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *updateEndpointInput) (*endpointOutput, error) {
		e, err := svc.UpdateEndpoint(ctx, tenant, in.EndpointID, in.Body)
		if err != nil {
			return nil, err
		}
		return &endpointOutput{Body: EndpointResponse{Endpoint: e}}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "delete-webhook", Method: http.MethodDelete, Path: "/webhooks/{endpointId}", Tag: tag, Summary: "Delete webhook endpoint",
		Description: "Removes the endpoint and its deliveries; nothing more is sent to it. Returns the deleted endpoint.",
		Scope:       write, Errors: []int{missing},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *endpointPath) (*deleteOutput, error) {
		e, err := svc.Endpoint(ctx, tenant, in.EndpointID)
		if err != nil {
			return nil, err
		}
		if err := svc.DeleteEndpoint(ctx, tenant, in.EndpointID); err != nil {
			return nil, err
		}
		return &deleteOutput{Body: EndpointResponse{Endpoint: e}}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "rotate-webhook-secret", Method: http.MethodPost, Path: "/webhooks/{endpointId}/rotate-secret", Tag: tag,
		Summary:     "Rotate webhook secret",
		Description: "Issues a new secret, shown only in this response. For 24 hours deliveries carry signatures with both the new and the old secret.",
		Scope:       write, Errors: []int{missing},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *endpointPath) (*withSecretOutput, error) {
		e, secret, err := svc.RotateSecret(ctx, tenant, in.EndpointID)
		if err != nil {
			return nil, err
		}
		return &withSecretOutput{Status: http.StatusOK, Body: EndpointWithSecret{Endpoint: e, Secret: secret}}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "test-webhook", Method: http.MethodPost, Path: "/webhooks/{endpointId}/test", Tag: tag, Summary: "Send a test event",
		Description: "Queues a `ping` event to this endpoint, whatever its event filter, and returns its delivery (202); follow it in the deliveries list.",
		Scope:       write, Status: http.StatusAccepted, Errors: []int{missing},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *endpointPath) (*deliveryOutput, error) {
		d, err := svc.Ping(ctx, tenant, in.EndpointID)
		if err != nil {
			return nil, err
		}
		return &deliveryOutput{Status: http.StatusAccepted, Body: DeliveryResponse{Delivery: d}}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "list-webhook-deliveries", Method: http.MethodGet, Path: "/webhooks/{endpointId}/deliveries", Tag: tag,
		Summary: "List deliveries", Description: "Returns the endpoint's deliveries, newest first, with their last attempt.",
		Scope: read, Errors: []int{bad, missing},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *listDeliveriesInput) (*listDeliveriesOutput, error) {
		items, total, err := svc.Deliveries(ctx, tenant, in.EndpointID, in.Status, in.Offset(), in.Limit)
		if err != nil {
			return nil, err
		}
		return &listDeliveriesOutput{Body: httpapi.NewPage(items, in.PageQuery, total)}, nil
	}))

	httpapi.Register(api, httpapi.Spec{
		ID: "retry-webhook-delivery", Method: http.MethodPost, Path: "/webhooks/{endpointId}/deliveries/{deliveryId}/retry", Tag: tag,
		Summary:     "Redeliver",
		Description: "Sends the delivery's event again as a new delivery (202), with a fresh retry schedule and the same webhook-id.",
		Scope:       write, Status: http.StatusAccepted, Errors: []int{missing},
	}, auth.Handle(log, func(ctx context.Context, tenant auth.Tenant, in *retryInput) (*deliveryOutput, error) {
		d, err := svc.Redeliver(ctx, tenant, in.EndpointID, in.DeliveryID)
		if err != nil {
			return nil, err
		}
		return &deliveryOutput{Status: http.StatusAccepted, Body: DeliveryResponse{Delivery: d}}, nil
	}))
}
