package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/internal/loop"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// batch is how many events one fan-out, and how many deliveries one claim,
// takes at most.
const batch = 100

// Tick turns committed events into deliveries and attempts every delivery
// that is due, and returns how many attempts it made. Run calls it; tests
// call it after moving the clock.
func (s *Service) Tick(ctx context.Context) (int, error) {
	for {
		n, err := s.queue.FanOut(ctx, batch, s.plan)
		if err != nil {
			return 0, fmt.Errorf("fan out events: %w", err)
		}
		if n < batch {
			break
		}
	}
	now := s.now()
	until := now.Add(s.cfg.Lease)
	jobs, err := s.queue.ClaimDeliveries(ctx, s.owner, now, until, batch)
	if err != nil {
		return 0, fmt.Errorf("claim deliveries: %w", err)
	}
	// Endpoints are served in parallel; one endpoint's deliveries go in
	// order, so a receiver mostly sees an incident's events in sequence.
	var order []string
	byEndpoint := map[string][]Job{}
	for _, job := range jobs {
		id := job.Endpoint.ID
		if _, ok := byEndpoint[id]; !ok {
			order = append(order, id)
		}
		byEndpoint[id] = append(byEndpoint[id], job)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, s.cfg.Concurrency)
	)
	for _, id := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, job := range byEndpoint[id] {
				// Never start an attempt the lease might not outlive: another
				// worker could take the delivery over mid-attempt. A skipped
				// delivery is claimed again when its lease expires.
				if s.now().Add(s.cfg.Timeout).After(until) {
					continue
				}
				if err := s.deliver(ctx, job); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("delivery %s: %w", job.Delivery.ID, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// Run delivers until ctx ends: it ticks every PollEvery (a safety net for
// events committed by another process), and at once after Wake or Notify.
func (s *Service) Run(ctx context.Context) {
	loop.Run(ctx, loop.Loop{Name: "webhook worker", Every: s.cfg.PollEvery, Wake: s.wake, Log: s.log}, func(ctx context.Context) (bool, error) {
		n, err := s.Tick(ctx)
		return n == batch, err
	})
}

// plan makes one delivery per enabled endpoint of the event's tenant that
// subscribes to its type.
func (s *Service) plan(ev outbox.Event, endpoints []*Endpoint) []*Delivery {
	var out []*Delivery
	for _, e := range endpoints {
		if e.Status == Enabled && e.Wants(ev.Type) {
			out = append(out, s.newDelivery(e, ev, ev.CreatedAt))
		}
	}
	return out
}

// Payload is the body of a delivery (schema TimelineEvent).
type Payload struct {
	ID        string          `json:"id" example:"evt_a1b2c3d4e5f6g7h8"`
	Type      string          `json:"type" example:"incident.assigned"`
	CreatedAt clock.Time      `json:"created_at"`
	Sequence  int64           `json:"sequence" doc:"Increases by one per incident: drop updates older than the last you applied."`
	Data      json.RawMessage `json:"data" doc:"{\"incident\": Incident} for incident events."`
}

// body encodes an event's payload; the same event always gives the same bytes.
func body(ev outbox.Event) ([]byte, error) {
	return json.Marshal(Payload{ID: ev.ID, Type: ev.Type, CreatedAt: clock.At(ev.CreatedAt), Sequence: ev.Sequence, Data: ev.Data})
}

// maxResponseBody is how much of a response a delivery keeps.
const maxResponseBody = 1 << 10

// deliver makes one attempt of a leased delivery and records its outcome.
func (s *Service) deliver(ctx context.Context, job Job) error {
	payload, err := body(job.Event)
	if err != nil {
		return err
	}
	now := s.now()
	sigs := make([]string, 0, 2)
	for _, secret := range job.Endpoint.secrets(now) {
		sig, err := Sign(secret, job.Event.ID, now, payload)
		if err != nil {
			return err
		}
		sigs = append(sigs, sig)
	}
	attemptCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := retryablehttp.NewRequestWithContext(attemptCtx, http.MethodPost, job.Endpoint.URL, bytes.NewReader(payload))
	if err != nil {
		return s.record(ctx, job, now, nil, "", 0, fmt.Errorf("bad request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sety-Webhooks/1.0")
	req.Header.Set(HeaderID, job.Event.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, strings.Join(sigs, " "))

	started := time.Now() // a measurement of the network, not domain time
	resp, err := s.client.Do(req)
	elapsed := time.Since(started)
	var text string
	if resp != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		resp.Body.Close()
		text = strings.ToValidUTF8(string(b), "\uFFFD") // a cut rune or a binary body
	}
	return s.record(ctx, job, now, resp, text, elapsed, err)
}

// record stores an attempt's outcome: success on a 2xx only; a 410
// disables the endpoint; other failures follow RetrySchedule, and an
// endpoint that failed everything for DisableAfter is disabled.
func (s *Service) record(ctx context.Context, job Job, now time.Time, resp *http.Response, text string, elapsed time.Duration, callErr error) error {
	err := s.queue.FinishAttempt(ctx, s.owner, job.Delivery.ID, func(d *Delivery, e *Endpoint) error {
		d.Attempts++
		d.LastAttemptAt = clock.At(now.UTC().Truncate(time.Millisecond))
		d.ResponseStatus, d.ResponseBody, d.Error, d.DurationMs = nil, nil, nil, nil
		ms := elapsed.Milliseconds()
		d.DurationMs = &ms
		if resp != nil {
			code := resp.StatusCode
			d.ResponseStatus, d.ResponseBody = &code, &text
		}
		if callErr != nil {
			msg := attemptError(callErr)
			d.Error = &msg
		}
		switch {
		case resp != nil && resp.StatusCode >= 200 && resp.StatusCode < 300:
			d.Status, d.NextAttemptAt = Succeeded, clock.Time{}
			e.FailingSince = time.Time{}
			return nil
		case resp != nil && resp.StatusCode == http.StatusGone:
			d.Status, d.NextAttemptAt = Failed, clock.Time{}
			disable(e, now, "the endpoint answered 410 Gone")
			return nil
		}
		if e.FailingSince.IsZero() {
			e.FailingSince = now
		}
		if now.Sub(e.FailingSince) >= DisableAfter {
			disable(e, now, "every delivery failed for 5 days")
		}
		if d.Attempts > len(RetrySchedule) {
			d.Status, d.NextAttemptAt = Failed, clock.Time{}
		} else {
			d.NextAttemptAt = clock.At(now.UTC().Truncate(time.Millisecond).Add(RetrySchedule[d.Attempts-1]))
		}
		return nil
	})
	if setyerr.Is(err, setyerr.Conflict) {
		// The lease expired and another worker took the delivery over: its
		// record of the attempt wins; ours is dropped, not double counted.
		s.log.WarnContext(ctx, "webhook lease lost", "delivery_id", job.Delivery.ID)
		return nil
	}
	return err
}

func disable(e *Endpoint, now time.Time, reason string) {
	e.Status, e.DisabledReason, e.UpdatedAt = Disabled, &reason, clock.At(now.UTC().Truncate(time.Millisecond))
}

// attemptError describes a failed call without internal detail beyond
// what the endpoint's owner needs: a timeout, a refused address, a reset.
func attemptError(err error) string {
	var urlErr interface{ Timeout() bool }
	if errors.As(err, &urlErr) && urlErr.Timeout() {
		return "timed out"
	}
	msg := redactErr(err).Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}
