package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/auth/authapi"
	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// writeWait bounds one write to a client; it also lifts the server's
// WriteTimeout, which would otherwise cut every stream.
const writeWait = 30 * time.Second

type streamInput struct {
	LastEventID string `header:"Last-Event-ID" maxLength:"20" doc:"Resume after this event id (from the stream's id: lines): every later event is sent first."`
}

// domains maps the read scope of each domain to the events it may see.
var domains = map[auth.Scope]string{auth.IncidentsRead: "incident.", auth.AccessRead: "access."}

// Register mounts the live event stream on api.
func Register(api huma.API, hub *Hub, events outbox.Log, log *slog.Logger) {
	authapi.Enums(api.OpenAPI().Components.Schemas)
	huma.Register(api, huma.Operation{
		OperationID: "stream-events", Method: http.MethodGet, Path: "/events/stream", Tags: []string{"Events"}, Summary: "Live event stream",
		Description: "Server-Sent Events: every event your webhooks could receive (incident.* with incidents:read, access.* with " +
			"access:read), in the webhook envelope `{id, type, created_at, sequence, data}`, as it is committed. Each event's `id:` is " +
			"its position in Sety's event log: reconnect with `Last-Event-ID` to get every event after it, then the live ones. " +
			"A comment line every 15 s keeps the connection open. Send the key in the Authorization header (a browser's EventSource " +
			"cannot: read the stream with fetch).\n\n" +
			"The stream ends, on every server, within 15 s of its key being revoked or expiring or its organization being suspended: " +
			"its last event is `event: error` whose `data:` is the error body (`{\"code\": 401, ...}` or 402), and the client should " +
			"not reconnect with that key. When the server shuts down the stream ends with a comment line; reconnect with `Last-Event-ID`.",
		Metadata: httpapi.Scope(auth.IncidentsRead, auth.AccessRead).Example(http.StatusConflict, map[string]any{"code": http.StatusConflict,
			"message": "Last-Event-ID 5120 is past the newest event (4096): reconnect without Last-Event-ID"}),
		Errors: []int{http.StatusBadRequest},
		Responses: map[string]*huma.Response{
			"200": {Description: "A stream of Server-Sent Events.",
				Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{Type: huma.TypeString}}}},
			"409": {Description: "`Last-Event-ID` is past the newest event (the server's event log was replaced or restarted empty): " +
				"reconnect without `Last-Event-ID`, and reload what you show, since events may have been missed."},
			"503": {Description: "Storage unavailable, or the event stream is not running (the server is starting " +
				"or stopping): retry after `Retry-After` seconds."},
		},
	}, httpapi.Errors(log, func(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
		p, err := authapi.FromContext(ctx)
		if err != nil {
			return nil, err
		}
		after := int64(-1) // from now
		if in.LastEventID != "" {
			if after, err = strconv.ParseInt(strings.TrimSpace(in.LastEventID), 10, 64); err != nil || after < 0 {
				return nil, setyerr.Invalidf("Last-Event-ID", "must be an event id from this stream")
			}
		}
		match := visibleTo(p)
		sub, err := hub.Subscribe(ctx, p, match)
		if err != nil {
			return nil, err
		}
		if after > sub.From {
			// Past what this hub has handed out: past the log's newest
			// event too, or committed just now (or through another
			// instance) and fine.
			if err := checkNotAhead(ctx, events, after); err != nil {
				hub.Unsubscribe(sub)
				return nil, err
			}
		}
		s := &session{hub: hub, events: events, sub: sub, match: match, after: after, tenant: p.Tenant, log: log}
		return &huma.StreamResponse{Body: s.serve}, nil
	}))
}

// checkNotAhead refuses a Last-Event-ID past the newest event of the log:
// a client that kept it from before the log was replaced (a new store, a
// restore) would otherwise wait, silent, until positions caught up with it.
func checkNotAhead(ctx context.Context, events outbox.Log, after int64) error {
	head, err := events.Head(ctx)
	if err != nil {
		return err
	}
	if after > head {
		return setyerr.E(setyerr.Conflict, "Last-Event-ID %d is past the newest event (%d): reconnect without Last-Event-ID", after, head)
	}
	return nil
}

// visibleTo is what a principal's stream shows: its tenant's events of the
// domains it may read.
func visibleTo(p *auth.Principal) func(outbox.Event) bool {
	var prefixes []string
	for scope, prefix := range domains {
		if p.Can(scope) {
			prefixes = append(prefixes, prefix)
		}
	}
	return func(ev outbox.Event) bool {
		if ev.OrgID != p.OrgID || ev.Environment != string(p.Env) {
			return false
		}
		for _, prefix := range prefixes {
			if strings.HasPrefix(ev.Type, prefix) {
				return true
			}
		}
		return false
	}
}

// session is one open stream.
type session struct {
	hub    *Hub
	events outbox.Log
	sub    *Subscription
	match  func(outbox.Event) bool
	after  int64 // the last position sent; -1 before the first live event
	tenant auth.Tenant
	log    *slog.Logger

	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *session) serve(hctx huma.Context) {
	defer s.hub.Unsubscribe(s.sub)
	ctx := hctx.Context()
	w, ok := hctx.BodyWriter().(http.ResponseWriter)
	if !ok {
		s.log.ErrorContext(ctx, "event stream: the response cannot be streamed")
		return
	}
	s.w, s.rc = w, http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // no proxy buffering
	w.WriteHeader(http.StatusOK)
	if s.write("retry: 3000\n\n") != nil {
		return
	}
	if s.after >= 0 && s.catchUp(ctx) != nil {
		return
	}
	heartbeat := time.NewTicker(s.hub.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, open := <-s.sub.C:
			if !open {
				s.last(s.sub.Ended())
				return
			}
			if ev.Position <= s.after {
				continue // sent during the catch-up
			}
			if s.send(ev) != nil {
				return
			}
		case <-heartbeat.C:
			if s.write(": keep-alive\n\n") != nil {
				return
			}
		}
	}
}

// last writes what ends a stream the hub ended: a comment when the server
// shuts down (the client reconnects, with Last-Event-ID), the error of a
// key that may no longer be used (the client must not), nothing when the
// stream fell behind (the client resumes from the store).
func (s *session) last(why error) {
	switch {
	case why == nil:
	case errors.Is(why, ErrShutdown):
		_ = s.write(": the server is shutting down; reconnect with Last-Event-ID\n\n")
	default:
		// The body as the API writes error bodies: "<key>" stays as it is.
		body, _ := setyerr.Wire(why)
		var data bytes.Buffer
		enc := json.NewEncoder(&data)
		enc.SetEscapeHTML(false)
		if enc.Encode(body) != nil {
			return
		}
		_ = s.write(fmt.Sprintf("event: error\ndata: %s\n\n", bytes.TrimSpace(data.Bytes())))
	}
}

// catchUpPage is how many events the catch-up reads from the store at a
// time.
const catchUpPage = 200

// catchUp sends, from the store, the events after the client's last one up
// to where the live events start, a page at a time. Each page is read
// after where the one before it looked (EventsAfter's next), and the loop
// ends when a read looked no further than where it started: never by
// comparing next with the last event sent (send moves s.after), which
// after a full page whose last event was sent are equal, and would end
// the catch-up with the rest of the log up to From unsent (see "Catch-up"
// in the package documentation).
func (s *session) catchUp(ctx context.Context) error {
	f := outbox.Filter{OrgID: s.tenant.OrgID, Environment: string(s.tenant.Env)}
	for s.after < s.sub.From {
		from := s.after
		page, next, err := s.events.EventsAfter(ctx, from, f, catchUpPage)
		if err != nil {
			s.log.ErrorContext(ctx, "event stream: catch up", "error", err)
			return err
		}
		for _, ev := range page {
			if ev.Position > s.sub.From {
				return nil // live from here
			}
			if s.match(ev) {
				if err := s.send(ev); err != nil {
					return err
				}
			}
		}
		if next <= from {
			return nil // nothing after from in the store
		}
		s.after = min(next, s.sub.From)
	}
	return nil
}

func (s *session) send(ev outbox.Event) error {
	data, err := json.Marshal(ev.Payload())
	if err != nil {
		return err
	}
	s.after = ev.Position
	return s.write(fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", ev.Position, ev.Type, data))
}

func (s *session) write(text string) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeWait)) // not every writer has deadlines; the stream works without
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	return s.rc.Flush()
}
