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
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// batch is how many endpoints one re-encryption transaction takes at
// most.
const batch = 100

// fanOutBatch is how many events one fan-out takes at most: what 64
// clients' creates commit in a fanOutGap, so that under load one fan-out
// a gap takes them all, not one per 100 events.
const fanOutBatch = 500

// fanOutGap is the least time from the end of one fan-out of Run to the
// start of the next: wakes that come sooner (Notify, at every commit of
// this process) wait out the rest of it and are served by one fan-out. A
// fan-out is a transaction of its own under the store's sequencer lock
// (on PostgreSQL: a look for waiting events, a read of the log, a commit
// and its WAL flush), and one per commit of creates cost the database a
// tenth of its CPU under 64 clients, more with two instances, whose
// fan-outs took the lock in turn. A wake after a quiet gap fans out at
// once; under load a delivery is planned at most this much later.
const fanOutGap = 50 * time.Millisecond

// fanOut turns every committed event into its deliveries.
func (s *Service) fanOut(ctx context.Context) error {
	for {
		n, err := s.queue.FanOut(ctx, fanOutBatch, s.plan)
		if err != nil {
			return fmt.Errorf("fan out events: %w", err)
		}
		if n < fanOutBatch {
			return nil
		}
	}
}

// claim leases up to limit claimable deliveries to this worker, under the
// configured caps, and returns them with the end of their lease.
func (s *Service) claim(ctx context.Context, limit int) ([]Job, time.Time, error) {
	if err := s.keys.load(ctx); err != nil { // before any attempt opens a secret
		return nil, time.Time{}, err
	}
	now := s.now()
	until := now.Add(s.cfg.Lease)
	jobs, err := s.queue.ClaimDeliveries(ctx, Claim{
		Owner: s.owner, Now: now, Until: until, Limit: limit,
		PerEndpoint: s.cfg.PerEndpoint, PerTenant: s.cfg.PerTenant, ProbeAfter: s.cfg.Breaker.After,
	})
	if err != nil {
		return nil, until, fmt.Errorf("claim deliveries: %w", err)
	}
	return jobs, until, nil
}

// pool runs a worker's attempts, each in its own goroutine, at most
// Config.Concurrency at once. Its owner (Tick or Run, one goroutine) starts
// attempts and collects their ends; nothing else touches running.
type pool struct {
	s       *Service
	running int
	done    chan error // one per finished attempt: its error or nil
}

func (s *Service) newPool() *pool {
	return &pool{s: s, done: make(chan error, s.cfg.Concurrency)}
}

// free is how many more attempts may start now.
func (p *pool) free() int { return p.s.cfg.Concurrency - p.running }

// start begins an attempt of every job, leased until until.
func (p *pool) start(ctx context.Context, jobs []Job, until time.Time) {
	for _, job := range jobs {
		p.running++
		go func() {
			// Never start an attempt the lease might not outlive: another
			// worker could take the delivery over mid-attempt. A skipped
			// delivery is claimed again when its lease expires.
			if p.s.now().Add(p.s.cfg.Timeout).After(until) {
				p.done <- nil
				return
			}
			if err := p.s.deliver(ctx, job); err != nil {
				p.done <- fmt.Errorf("delivery %s: %w", job.Delivery.ID, err)
				return
			}
			p.done <- nil
		}()
	}
}

// wait blocks until an attempt ends and returns its error.
func (p *pool) wait() error {
	err := <-p.done
	p.running--
	return err
}

// Tick turns committed events into deliveries and attempts every delivery
// that is due, and returns how many attempts it made. It claims while
// attempts run, as Run does, and returns once nothing more is claimable and
// every attempt has ended: the next of an incident's events to an endpoint
// is claimed as soon as the one before it succeeded, in the same Tick. Tests
// call it after moving the clock; Run is the worker of a server.
func (s *Service) Tick(ctx context.Context) (int, error) {
	if err := s.fanOut(ctx); err != nil {
		return 0, err
	}
	p := s.newPool()
	var errs []error
	attempts := 0
	for {
		if free := p.free(); free > 0 {
			jobs, until, err := s.claim(ctx, free)
			if err != nil {
				errs = append(errs, err)
				for p.running > 0 {
					errs = append(errs, p.wait())
				}
				break
			}
			p.start(ctx, jobs, until)
			attempts += len(jobs)
			if len(jobs) == free {
				continue // full: more may be claimable once a slot frees
			}
		}
		if p.running == 0 {
			break
		}
		errs = append(errs, p.wait())
	}
	return attempts, errors.Join(errs...)
}

// Run delivers until ctx ends. It first re-encrypts endpoint secrets sealed
// with another key than the current one (ReencryptSecrets), and purges what
// Config.Retention no longer keeps beside it (Purge), at once and every
// PurgeEvery. It is a
// dispatcher: it claims whenever it
// has free slots and there may be work (an attempt ended, Wake or Notify,
// or every PollEvery, a safety net for events another process committed and
// retries coming due), and never waits for a running attempt before
// claiming more, so a slow endpoint holds only its own slots. Attempts
// still running when ctx ends are cut short and left to their leases.
func (s *Service) Run(ctx context.Context) {
	if n, err := s.ReencryptSecrets(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "webhook secrets: re-encryption", "error", err, "endpoints", n)
	} else if n > 0 {
		s.log.InfoContext(ctx, "webhook secrets: re-encrypted with the current key", "endpoints", n)
	}
	// The purge runs beside the deliveries, never in their way: its
	// batches are short transactions of their own.
	purged := make(chan struct{})
	go func() { defer close(purged); s.runPurge(ctx) }()
	defer func() { <-purged }()
	ticker := time.NewTicker(s.cfg.PollEvery)
	defer ticker.Stop()
	p := s.newPool()
	defer func() {
		for p.running > 0 {
			p.wait()
		}
	}()
	logErr := func(err error) {
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "webhook worker", "error", err)
		}
	}
	after := s.after
	if after == nil {
		after = time.After
	}
	defer s.release(ctx)
	var (
		fannedOut time.Time        // when the last fan-out ended (the zero time: none yet)
		held      <-chan time.Time // while a fan-out waits out the rest of its gap
		waited    bool             // held has fired: the fan-out waits no more
		own       bool             // this process asked for the fan-out (Notify, Wake), not the poll
	)
	fanOut, claim := true, true
	for {
		if fanOut && held == nil {
			gap := s.gap(ctx, own) // fanOutGap, or followGap while another instance leads (lead.go)
			if wait := min(gap, gap-s.now().Sub(fannedOut)); wait > 0 && !waited {
				held = after(wait)
			} else {
				logErr(s.fanOut(ctx))
				// What it fanned out may be claimed now (not before:
				// a claim woken with it would find nothing new).
				fanOut, claim, fannedOut, waited, own = false, true, s.now(), false, false
			}
		}
		if free := p.free(); claim && free > 0 {
			jobs, until, err := s.claim(ctx, free)
			logErr(err)
			p.start(ctx, jobs, until)
			// A short batch took everything claimable; a full one may have
			// left more, claimed as slots free.
			claim = false
		}
		select {
		case <-ctx.Done():
			return
		case err := <-p.done:
			p.running--
			logErr(err)
			// Collect the attempts that ended meanwhile, so one claim
			// refills all their slots.
			for drained := false; !drained; {
				select {
				case err := <-p.done:
					p.running--
					logErr(err)
				default:
					drained = true
				}
			}
			claim = true
		case <-held:
			held, waited = nil, true
		case <-s.wake:
			fanOut, own = true, true
		case <-ticker.C:
			fanOut, claim = true, true
		}
	}
}

// plan makes one delivery per endpoint of the event's tenant that
// subscribes to its type: pending for an enabled endpoint, skipped (never
// sent unless the endpoint is enabled again in time, or it is retried) for
// a disabled one, so nothing it missed is lost.
func (s *Service) plan(ev outbox.Event, endpoints []*Endpoint) []*Delivery {
	var out []*Delivery
	for _, e := range endpoints {
		if !e.Wants(ev.Type) {
			continue
		}
		d := s.newDelivery(e, ev, ev.CreatedAt)
		if e.Status != Enabled {
			d.Status, d.NextAttemptAt = Skipped, clock.Time{}
		}
		out = append(out, d)
	}
	return out
}

// Payload is the body of a delivery (schema TimelineEvent): the event's
// outbox.Payload, which the live event stream sends too.
type Payload = outbox.Payload

// body encodes an event's payload; the same event always gives the same bytes.
func body(ev outbox.Event) ([]byte, error) { return json.Marshal(ev.Payload()) }

// maxResponseBody is how much of a response a delivery keeps.
const maxResponseBody = 1 << 10

// deliver makes one attempt of a leased delivery and records its outcome.
func (s *Service) deliver(ctx context.Context, job Job) error {
	payload, err := body(job.Event)
	if err != nil {
		return err
	}
	now := s.now()
	secrets, err := s.keys.signing(job.Endpoint, now)
	if err != nil {
		// No attempt is made or counted: the delivery is tried again when
		// its lease expires, once the key is configured.
		return err
	}
	sigs := make([]string, 0, 2)
	for _, secret := range secrets {
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

// record stores an attempt's outcome: success on a 2xx only, which closes
// the endpoint's breaker; a 410 disables the endpoint; other failures follow
// Config.RetrySchedule, count towards the breaker, and an endpoint that failed
// everything for DisableAfter is disabled.
func (s *Service) record(ctx context.Context, job Job, now time.Time, resp *http.Response, text string, elapsed time.Duration, callErr error) error {
	ended := s.now().UTC().Truncate(time.Millisecond)
	var outcome string // of the attempt as stored, once it is
	err := s.queue.FinishAttempt(ctx, s.owner, job.Delivery.ID, func(d *Delivery, e *Endpoint) error {
		_, _ = s.keys.reseal(e) // an endpoint that gets deliveries moves to the current key
		d.Attempts++
		d.LastAttemptAt = clock.At(now.UTC().Truncate(time.Millisecond))
		defer func() { outcome = attemptOutcome(d.Status) }()
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
			e.FailingSince, e.Failures, e.PausedUntil = time.Time{}, 0, time.Time{}
			return nil
		case resp != nil && resp.StatusCode == http.StatusGone:
			d.Status, d.NextAttemptAt = Failed, clock.Time{}
			disable(e, now, "the endpoint answered 410 Gone")
			return nil
		}
		if e.FailingSince.IsZero() {
			e.FailingSince = now
		}
		e.Failures++
		if pause := s.cfg.Breaker.pause(e.Failures); pause > 0 && ended.Add(pause).After(e.PausedUntil) {
			e.PausedUntil = ended.Add(pause)
		}
		if now.Sub(e.FailingSince) >= DisableAfter {
			disable(e, now, "every delivery failed for 5 days")
		}
		if schedule := s.cfg.RetrySchedule; d.Attempts > len(schedule) {
			d.Status, d.NextAttemptAt = Failed, clock.Time{}
		} else {
			d.NextAttemptAt = clock.At(now.UTC().Truncate(time.Millisecond).Add(schedule[d.Attempts-1]))
		}
		return nil
	})
	if err == nil && s.cfg.OnAttempt != nil {
		s.cfg.OnAttempt(outcome, elapsed)
	}
	switch {
	case setyerr.Is(err, setyerr.Conflict):
		// The lease expired and another worker took the delivery over: its
		// record of the attempt wins; ours is dropped, not double counted.
		s.log.WarnContext(ctx, "webhook lease lost", "delivery_id", job.Delivery.ID)
		return nil
	case setyerr.Is(err, setyerr.NotFound):
		// The endpoint was deleted, with its deliveries, during the
		// attempt: there is nothing left to record, and nothing wrong.
		s.log.InfoContext(ctx, "webhook endpoint deleted during an attempt", "delivery_id", job.Delivery.ID, "endpoint_id", job.Endpoint.ID)
		return nil
	}
	return err
}

// attemptOutcome names what an attempt left its delivery as, for metrics.
func attemptOutcome(status string) string {
	if status == Pending {
		return "retrying"
	}
	return status
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
