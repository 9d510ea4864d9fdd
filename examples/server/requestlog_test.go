package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The request line written without slog is the line slog's text handler
// writes for the same record, byte for byte; a line with a string slog
// would quote (or one outside printable ASCII) is left to slog.
func TestRequestLineIsSlogs(t *testing.T) {
	lagos := time.FixedZone("WAT", 3600)
	times := []time.Time{
		time.Date(2026, 12, 6, 19, 2, 21, 655_987_000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, lagos),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Now(), // with a monotonic reading, in the local zone
		time.Date(2026, 12, 6, 19, 2, 21, 1_000_000, time.FixedZone("GMT", 0)),
		time.Date(2026, 7, 6, 9, 2, 21, 1_000_000, time.FixedZone("NDT", -(2*3600+1800))),
	}
	durations := []time.Duration{0, 999, 150_734, 2_382_053, 3 * time.Second, 90 * time.Minute}
	paths := []string{"/v1/external/incidents/inc_mxc7j8fxhnnjy16f", "/", "/v1/a%20b", "/v1/\\x", "/v1/<x>&'", "/v1/a b", "/v1/a=b", `/v1/"`, "/v1/é", "/v1/\x7f", "/v1/\t", ""}
	for _, at := range times {
		for _, took := range durations {
			for _, path := range paths {
				for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
					var fast, slow bytes.Buffer
					ok := newRequestLines(&fast, &fast).write(at, level, "GET", path, 404, 1293, took, "578eb3bd-a053-40b4-b5f3-48f903bb52a2")
					rec := slog.NewRecord(at, level, "request", 0)
					rec.AddAttrs(slog.String("method", "GET"), slog.String("path", path), slog.Int("status", 404),
						slog.Int("bytes", 1293), slog.Duration("duration", took), slog.String("request_id", "578eb3bd-a053-40b4-b5f3-48f903bb52a2"))
					if err := slog.NewTextHandler(&slow, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(context.Background(), rec); err != nil {
						t.Fatal(err)
					}
					quoted := strings.Contains(slow.String(), `path="`)
					switch {
					case ok && quoted:
						t.Errorf("path %q: written without slog, which quotes it", path)
					case ok && fast.String() != slow.String():
						t.Errorf("at %v, %v, path %q:\n got %q\nwant %q", at, took, path, fast.String(), slow.String())
					case !ok && fast.Len() != 0:
						t.Errorf("path %q: left to slog, yet %q was written", path, fast.String())
					}
				}
			}
		}
	}
}

// The server's text logger writes request lines without slog and its
// other records through it, to the one writer.
func TestTextLoggerWritesRequestLines(t *testing.T) {
	var out bytes.Buffer
	log := newLogger(&out, "text")
	h := logRequests(log, recoverPanics(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/tea?key=secret", nil))
	id := rec.Header().Get("X-Request-Id")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "level=INFO msg=inside request_id="+id) ||
		!strings.Contains(lines[1], " level=INFO msg=request method=GET path=/v1/tea status=418 bytes=0 duration=") ||
		!strings.HasSuffix(lines[1], " request_id="+id) || strings.Contains(out.String(), "secret") {
		t.Fatalf("logs:\n%s", out.String())
	}
}

// twoWays records which of its methods each line came through.
type twoWays struct {
	mu   sync.Mutex
	now  []string
	late []string
}

func (w *twoWays) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = append(w.now, string(p))
	return len(p), nil
}

func (w *twoWays) WriteLater(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.late = append(w.late, string(p))
	return len(p), nil
}

// In either format, the request lines go to the writer's WriteLater (they
// may wait for a batch) and every other record to its Write (at once).
func TestRequestLinesMayWaitOtherRecordsDoNot(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		out := &twoWays{}
		log := newLogger(out, format)
		h := logRequests(log, recoverPanics(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.ErrorContext(r.Context(), "inside")
			w.WriteHeader(http.StatusTeapot)
		})))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/tea", nil))
		if len(out.now) != 1 || !strings.Contains(out.now[0], "inside") ||
			len(out.late) != 1 || !strings.Contains(out.late[0], "request") || !strings.Contains(out.late[0], "418") {
			t.Errorf("%s: at once %q, later %q", format, out.now, out.late)
		}
	}
}
