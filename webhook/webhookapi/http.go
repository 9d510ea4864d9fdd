package webhookapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/auth/authapi"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/webhook"
)

// EndpointWithSecret is the answer to a create or a rotation: the only
// times the secret is shown.
type EndpointWithSecret struct {
	Endpoint *webhook.Endpoint `json:"endpoint" nullable:"false" doc:"The endpoint."`
	Secret   string            `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" doc:"Signs deliveries (Standard Webhooks). Shown only now."`
}

// EndpointResponse wraps one endpoint.
type EndpointResponse struct {
	Endpoint *webhook.Endpoint `json:"endpoint" nullable:"false" doc:"The endpoint."`
}

// DeliveryResponse wraps one delivery.
type DeliveryResponse struct {
	Delivery *webhook.Delivery `json:"delivery" nullable:"false" doc:"The delivery, queued."`
}

// EndpointIDParam is the path parameter of operations on one endpoint.
type EndpointIDParam struct {
	EndpointID string `path:"endpointId" maxLength:"64" example:"we_a1b2c3d4e5f6g7h8" doc:"The endpoint id."`
}

// DeliveryIDParam is the path parameter of operations on one delivery.
type DeliveryIDParam struct {
	DeliveryID string `path:"deliveryId" maxLength:"64" example:"whd_a1b2c3d4e5f6g7h8" doc:"The delivery id."`
}

type createEndpointInput struct{ Body webhook.CreateEndpointRequest }
type updateEndpointInput struct {
	EndpointIDParam
	Body webhook.UpdateEndpointRequest
}
type listDeliveriesInput struct {
	EndpointIDParam
	Status string `query:"status" enum:"pending,succeeded,failed,skipped" doc:"Only deliveries in this status."`
	httpapi.PageQuery
}
type retryInput struct {
	EndpointIDParam
	DeliveryIDParam
}

type (
	withSecretOutput = httpapi.Output[EndpointWithSecret]
	endpointOutput   = httpapi.Output[EndpointResponse]
	deliveryOutput   = httpapi.Output[DeliveryResponse]
)

func endpointResult(e *webhook.Endpoint, err error) (*endpointOutput, error) {
	return httpapi.Reply(EndpointResponse{Endpoint: e}, err)
}

func withSecret(e *webhook.Endpoint, secret string, err error) (*withSecretOutput, error) {
	return httpapi.Reply(EndpointWithSecret{Endpoint: e, Secret: secret}, err)
}

func deliveryResult(d *webhook.Delivery, err error) (*deliveryOutput, error) {
	return httpapi.Reply(DeliveryResponse{Delivery: d}, err)
}

// Register mounts the webhook operations on api.
func Register(api huma.API, svc *webhook.Service, log *slog.Logger) {
	authapi.Enums(api.OpenAPI().Components.Schemas)
	const tag = "Webhooks"
	read, write := string(auth.WebhooksRead), string(auth.WebhooksWrite)
	bad, missing, large := http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge

	huma.Register(api, huma.Operation{
		OperationID: "create-webhook", Method: http.MethodPost, Path: "/webhooks", Tags: []string{tag}, Summary: "Create webhook endpoint",
		Description: "Registers a URL to receive events of this environment, signed with Standard Webhooks headers. " +
			"The secret is shown only in this response. Deliveries are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.",
		Metadata: httpapi.Scope(write), DefaultStatus: http.StatusCreated, Errors: []int{bad, large},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *createEndpointInput) (*withSecretOutput, error) {
		return withSecret(svc.CreateEndpoint(ctx, tenant, in.Body))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-webhooks", Method: http.MethodGet, Path: "/webhooks", Tags: []string{tag}, Summary: "List webhook endpoints",
		Description: "Returns this environment's endpoints, oldest first.", Metadata: httpapi.Scope(read), Errors: []int{bad},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *httpapi.PageQuery) (*httpapi.ListOutput[*webhook.Endpoint], error) {
		items, total, err := svc.Endpoints(ctx, tenant, in.Offset(), in.Limit)
		return httpapi.List(*in, items, total, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "get-webhook", Method: http.MethodGet, Path: "/webhooks/{endpointId}", Tags: []string{tag}, Summary: "Get webhook endpoint",
		Description: "Returns one endpoint (never its secret).", Metadata: httpapi.Scope(read), Errors: []int{missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *EndpointIDParam) (*endpointOutput, error) {
		return endpointResult(svc.Endpoint(ctx, tenant, in.EndpointID))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "update-webhook", Method: http.MethodPatch, Path: "/webhooks/{endpointId}", Tags: []string{tag}, Summary: "Update webhook endpoint",
		Description: "Changes the URL, events, description or status. While an endpoint is disabled nothing is sent to it: its pending deliveries wait, " +
			"and each event it subscribes to is recorded as a `skipped` delivery. Enabling it again resumes the pending deliveries and sends the skipped ones " +
			"of the last 72 hours, each incident's in sequence order; older skipped deliveries can be sent with the retry operation.",
		Metadata: httpapi.Scope(write), Errors: []int{bad, missing, large},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *updateEndpointInput) (*endpointOutput, error) {
		return endpointResult(svc.UpdateEndpoint(ctx, tenant, in.EndpointID, in.Body))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "delete-webhook", Method: http.MethodDelete, Path: "/webhooks/{endpointId}", Tags: []string{tag}, Summary: "Delete webhook endpoint",
		Description: "Removes the endpoint and its deliveries; nothing more is sent to it. Returns the deleted endpoint.",
		Metadata:    httpapi.Scope(write), Errors: []int{missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *EndpointIDParam) (*endpointOutput, error) {
		e, err := svc.Endpoint(ctx, tenant, in.EndpointID)
		if err != nil {
			return nil, err
		}
		return endpointResult(e, svc.DeleteEndpoint(ctx, tenant, in.EndpointID))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "rotate-webhook-secret", Method: http.MethodPost, Path: "/webhooks/{endpointId}/rotate-secret", Tags: []string{tag},
		Summary:     "Rotate webhook secret",
		Description: "Issues a new secret, shown only in this response. For 24 hours deliveries carry signatures with both the new and the old secret.",
		Metadata:    httpapi.Scope(write), Errors: []int{missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *EndpointIDParam) (*withSecretOutput, error) {
		return withSecret(svc.RotateSecret(ctx, tenant, in.EndpointID))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "test-webhook", Method: http.MethodPost, Path: "/webhooks/{endpointId}/test", Tags: []string{tag}, Summary: "Send a test event",
		Description: "Queues a `ping` event to this endpoint, whatever its event filter, and returns its delivery (202); follow it in the deliveries list.",
		Metadata:    httpapi.Scope(write), DefaultStatus: http.StatusAccepted, Errors: []int{missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *EndpointIDParam) (*deliveryOutput, error) {
		return deliveryResult(svc.Ping(ctx, tenant, in.EndpointID))
	})))

	huma.Register(api, huma.Operation{
		OperationID: "list-webhook-deliveries", Method: http.MethodGet, Path: "/webhooks/{endpointId}/deliveries", Tags: []string{tag},
		Summary: "List deliveries", Description: "Returns the endpoint's deliveries, newest first, with their last attempt.",
		Metadata: httpapi.Scope(read), Errors: []int{bad, missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *listDeliveriesInput) (*httpapi.ListOutput[*webhook.Delivery], error) {
		items, total, err := svc.Deliveries(ctx, tenant, in.EndpointID, in.Status, in.Offset(), in.Limit)
		return httpapi.List(in.PageQuery, items, total, err)
	})))

	huma.Register(api, huma.Operation{
		OperationID: "retry-webhook-delivery", Method: http.MethodPost, Path: "/webhooks/{endpointId}/deliveries/{deliveryId}/retry", Tags: []string{tag},
		Summary:     "Redeliver",
		Description: "Sends the delivery's event again as a new delivery (202), with a fresh retry schedule and the same webhook-id.",
		Metadata:    httpapi.Scope(write), DefaultStatus: http.StatusAccepted, Errors: []int{missing},
	}, httpapi.Errors(log, authapi.Handle(func(ctx context.Context, tenant auth.Tenant, in *retryInput) (*deliveryOutput, error) {
		return deliveryResult(svc.Redeliver(ctx, tenant, in.EndpointID, in.DeliveryID))
	})))
}
