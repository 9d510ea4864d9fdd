package webhook

import (
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/clone"
)

// Delivery statuses. A skipped delivery was never attempted: its endpoint
// was disabled when the event happened. Re-enabling the endpoint within
// Config.ResumeWindow of the event makes it pending; a retry (Redeliver)
// sends it at any time.
const (
	Pending   = "pending"
	Succeeded = "succeeded"
	Failed    = "failed"
	Skipped   = "skipped"
)

// Delivery is one event on its way to one endpoint, with its last attempt.
type Delivery struct {
	ID             string     `json:"delivery_id" example:"whd_a1b2c3d4e5f6g7h8" doc:"The delivery's id: whd_ and 16 lowercase letters or digits."`
	EndpointID     string     `json:"endpoint_id" example:"we_a1b2c3d4e5f6g7h8" doc:"The endpoint it goes to."`
	EventID        string     `json:"event_id" example:"evt_a1b2c3d4e5f6g7h8" doc:"The event it carries; also the webhook-id header."`
	EventType      string     `json:"event_type" example:"incident.assigned" doc:"The event's type."`
	Status         string     `json:"status" enum:"pending,succeeded,failed,skipped" doc:"pending (queued, between retries, or waiting behind an earlier event of the same incident), succeeded (a 2xx came back), failed (every retry failed, or the endpoint went away) or skipped (the endpoint was disabled when the event happened: nothing was sent; enabling the endpoint within 72 hours of the event sends it, a retry sends it any time while the delivery is kept: finished deliveries are purged after the retention period, 30 days by default)."`
	Attempts       int        `json:"attempts" example:"1" doc:"Attempts made so far."`
	NextAttemptAt  clock.Time `json:"next_attempt_at" nullable:"true" doc:"When the next attempt is due; null once the delivery succeeded or failed."`
	LastAttemptAt  clock.Time `json:"last_attempt_at" nullable:"true" doc:"When the last attempt was made; null before the first."`
	ResponseStatus *int       `json:"response_status" example:"200" doc:"HTTP status of the last attempt's response; null when none came."`
	ResponseBody   *string    `json:"response_body" example:"ok" doc:"The first 1 KiB of the last response's body; null when none came."`
	DurationMs     *int64     `json:"duration_ms" example:"84" doc:"How long the last attempt took, in milliseconds; null before the first."`
	Error          *string    `json:"error" example:"connection refused" doc:"Why the last attempt failed when no response came; null otherwise."`
	CreatedAt      clock.Time `json:"created_at" doc:"When the delivery was queued."`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
}

// Tenant returns the tenant that owns the delivery.
func (d *Delivery) Tenant() auth.Tenant { return auth.Tenant{OrgID: d.OrgID, Env: d.Environment} }

// Clone returns a deep copy.
func (d *Delivery) Clone() *Delivery {
	c := *d
	c.ResponseStatus = clone.Ptr(d.ResponseStatus)
	c.ResponseBody = clone.Ptr(d.ResponseBody)
	c.DurationMs = clone.Ptr(d.DurationMs)
	c.Error = clone.Ptr(d.Error)
	return &c
}

// DefaultRetrySchedule is the contract's wait after each failed attempt
// (Config.RetrySchedule): after the first failure 5 s, then 5 min, 30 min,
// 2 h, 5 h, 10 h and 10 h; the delivery fails for good when the attempt
// after the last wait fails (eight attempts over about 27.6 hours). Each
// call returns a new slice.
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
}

// DisableAfter is how long an endpoint may fail every attempt before it is
// disabled.
const DisableAfter = 5 * 24 * time.Hour
