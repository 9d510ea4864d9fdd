package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/sety-io/sety/internal/httpapi"
	"github.com/sety-io/sety/setyerr"
)

type requestIDKey struct{}

// newLogger returns a logger that adds the request id of the context to
// every record, so Sety's own logs (an internal error) name their request.
// In the text format, logRequests writes its lines itself (requestlog.go).
// Request lines go to w's WriteLater when it has one (logWriter), which
// may hold them for a batch; every other record is written at once.
func newLogger(w io.Writer, format string) *slog.Logger {
	later := w
	if d, ok := w.(deferrable); ok {
		later = writeLater{d}
	}
	if format == "json" {
		return slog.New(requestIDHandler{Handler: slog.NewJSONHandler(w, nil), requests: slog.NewJSONHandler(later, nil)})
	}
	lines := newRequestLines(w, later)
	return slog.New(requestIDHandler{Handler: slog.NewTextHandler(lines, nil), lines: lines})
}

// deferrable is a writer that also takes lines that may wait (logWriter).
type deferrable interface {
	WriteLater(p []byte) (int, error)
}

// writeLater is the io.Writer of a deferrable's WriteLater.
type writeLater struct{ d deferrable }

func (w writeLater) Write(p []byte) (int, error) { return w.d.WriteLater(p) }

type requestIDHandler struct {
	slog.Handler
	// lines, if not nil, writes the request lines of this handler (a
	// text handler with the default options, no attributes or groups
	// added) as it would, on the writer it writes to.
	lines *requestLines
	// requests, if not nil, handles the request records in place of
	// Handler (the same format, on a writer that may batch them).
	requests slog.Handler
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithGroup(name)}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests gives every request an id (X-Request-Id) and logs one line per
// request: method, path, status, duration. It logs no header and no query
// string, so an API key never reaches the logs. A healthy answer on one of
// the probe paths (the health checks, which load balancers call every few
// seconds) is logged at DEBUG, below the default level, so probes do not
// drown the requests; an unhealthy one at INFO like any request.
func logRequests(log *slog.Logger, next http.Handler, probes ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.NewString()
		t := &tracked{statusRecorder: statusRecorder{ResponseWriter: w}, id: [1]string{id}}
		t.ctx = requestIDContext{Context: r.Context(), id: id}
		// The header's value is t's: net/http's name is canonical, and
		// Header().Set would allocate a slice of one value for it.
		w.Header()["X-Request-Id"] = t.id[:]
		rec := &t.statusRecorder
		next.ServeHTTP(rec, r.WithContext(&t.ctx))
		level := slog.LevelInfo
		if rec.status == http.StatusOK && slices.Contains(probes, r.URL.Path) {
			level = slog.LevelDebug
		}
		ctx := &t.ctx
		if !log.Enabled(ctx, level) {
			return
		}
		end := time.Now()
		if h, ok := log.Handler().(requestIDHandler); ok && h.lines != nil &&
			h.lines.write(end, level, r.Method, r.URL.Path, rec.status, rec.bytes, end.Sub(start), id) {
			return
		}
		// The record is made here rather than by log.LogAttrs, which looks
		// up its caller's program counter (for a source the handlers do not
		// print) at every request.
		line := slog.NewRecord(end, level, "request", 0)
		line.AddAttrs(
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", end.Sub(start)),
		)
		if h, ok := log.Handler().(requestIDHandler); ok && h.requests != nil {
			_ = requestIDHandler{Handler: h.requests}.Handle(ctx, line) // the same format, on the batching writer
			return
		}
		_ = log.Handler().Handle(ctx, line) // a log has nowhere to report its own failure
	})
}

// tracked is what logRequests keeps of a request, in one allocation: the
// recorder of its answer, its context with its id, and the id as the
// X-Request-Id header's value.
type tracked struct {
	statusRecorder
	ctx requestIDContext
	id  [1]string
}

// requestIDContext is a request's context with its id, as
// context.WithValue(ctx, requestIDKey{}, id) would give it.
type requestIDContext struct {
	context.Context
	id string
}

func (c *requestIDContext) Value(key any) any {
	if key == (requestIDKey{}) {
		return c.id
	}
	return c.Context.Value(key)
}

// recoverPanics turns a panic in a handler into a logged stack and a plain
// 500 {code, message}; the client learns nothing of the cause.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic", "panic", v, "stack", string(debug.Stack()))
				httpapi.WriteBody(w, &setyerr.Body{Code: http.StatusInternalServerError, Message: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
