package apitest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Event is one event read from Sety's event stream (Server-Sent Events):
// its id (the log position), its type and its decoded data. A comment
// line (the stream's keep-alive) arrives as an Event of type "heartbeat".
type Event struct {
	ID, Type string
	Data     map[string]any
}

// OpenStream connects to the event stream of the API at base (its
// "http://host:port") with key, resuming after lastID unless it is "",
// and returns the response and the events as they arrive; the channel is
// closed when the stream ends (or at once, when the answer is not 200).
// A server that has not started its stream yet (503) is asked again, as
// a client would, for up to 10 s. A request that fails fails tb: call it
// from the test's goroutine (a follower on a goroutine of its own uses
// DialStream).
func OpenStream(tb testing.TB, ctx context.Context, base, key, lastID string) (*http.Response, <-chan Event) {
	tb.Helper()
	resp, events, err := DialStream(ctx, base, key, lastID)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, events
}

// DialStream is OpenStream that returns a failed request's error instead
// of failing a test: for a goroutine that follows a stream across server
// restarts, where a refused connection is a reason to ask again and
// testing.TB's Fatal may not be called.
func DialStream(ctx context.Context, base, key, lastID string) (*http.Response, <-chan Event, error) {
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/external/events/stream", nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		if resp, err = http.DefaultClient.Do(req); err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		resp.Body.Close()
	}
	out := make(chan Event, 100)
	if resp.StatusCode != http.StatusOK {
		close(out)
		return resp, out, nil
	}
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev Event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Type != "" || ev.ID != "" {
					out <- ev
				}
				ev = Event{}
			case strings.HasPrefix(line, ":"):
				out <- Event{Type: "heartbeat"}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Type = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &ev.Data)
			}
		}
	}()
	return resp, out, nil
}

// Next waits up to within for the next event of events that is not a
// heartbeat; it fails tb if the stream ends or nothing comes.
func Next(tb testing.TB, events <-chan Event, within time.Duration) Event {
	tb.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				tb.Fatal("the stream ended")
			}
			if ev.Type != "heartbeat" {
				return ev
			}
		case <-deadline:
			tb.Fatalf("no event within %v", within)
		}
	}
}
