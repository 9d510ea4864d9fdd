package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/webhook"
)

// EncodeEvents returns the events column of e: its event types as JSON.
func EncodeEvents(e *webhook.Endpoint) (string, error) {
	events, err := json.Marshal(e.Events)
	return string(events), err
}

// DecodeEvents sets the event types of e from its events column.
func DecodeEvents(e *webhook.Endpoint, events string) error {
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return fmt.Errorf("decode events of %s: %w", e.ID, err)
	}
	return nil
}

// ChangeEndpoint applies change to e, the tenant's endpoint id as read in
// an update's transaction, and sets its identity again after it: change
// cannot move the endpoint. It reports whether the change enabled an
// endpoint that was disabled (a resume, whose skipped deliveries become
// pending again).
func ChangeEndpoint(e *webhook.Endpoint, tenant auth.Tenant, id string, change func(*webhook.Endpoint) error) (resumed bool, err error) {
	wasDisabled := e.Status == webhook.Disabled
	if err := change(e); err != nil {
		return false, err
	}
	e.ID, e.OrgID, e.Environment = id, tenant.OrgID, tenant.Env
	return wasDisabled && e.Status == webhook.Enabled, nil
}

// ChangeEndpoints applies UpdateEndpoints' change to each endpoint of page
// in turn and hands those it changed to store, their identity set again
// first (change cannot move one). It returns the id of the page's last
// endpoint, "" for an empty page; an error of change or store ends it.
func ChangeEndpoints(page []*webhook.Endpoint, change func(*webhook.Endpoint) (bool, error), store func(*webhook.Endpoint) error) (last string, err error) {
	for _, e := range page {
		id, org, env := e.ID, e.OrgID, e.Environment
		ok, err := change(e)
		if err != nil {
			return "", err
		}
		if ok {
			e.ID, e.OrgID, e.Environment = id, org, env
			if err := store(e); err != nil {
				return "", err
			}
		}
		last = id
	}
	return last, nil
}

// EndpointsOf returns the look-up a fan-out makes of the endpoints of each
// event's tenant: load reads a tenant's endpoints, once per tenant.
func EndpointsOf(load func(auth.Tenant) ([]*webhook.Endpoint, error)) func(outbox.Event) ([]*webhook.Endpoint, error) {
	byTenant := map[auth.Tenant][]*webhook.Endpoint{}
	return func(ev outbox.Event) ([]*webhook.Endpoint, error) {
		tenant := auth.Tenant{OrgID: ev.OrgID, Env: auth.Environment(ev.Environment)}
		if endpoints, ok := byTenant[tenant]; ok {
			return endpoints, nil
		}
		endpoints, err := load(tenant)
		if err != nil {
			return nil, err
		}
		byTenant[tenant] = endpoints
		return endpoints, nil
	}
}

// Counts is groups as a map from key to count.
func Counts(groups []Group) map[string]int {
	out := make(map[string]int, len(groups))
	for _, g := range groups {
		out[g.Key] = g.N
	}
	return out
}
