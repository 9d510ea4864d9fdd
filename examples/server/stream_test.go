package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hang bounds a wait for what must happen, so a broken build fails
// instead of hanging; no test asserts how soon it happens.
const hang = 60 * time.Second

// sseLines is an open event stream, read line by line.
type sseLines struct {
	resp  *http.Response
	lines chan string // closed at the end of the stream
}

// openEvents opens base's event stream with key and returns once the
// server has started it (its first line, the retry hint, has arrived).
func openEvents(t *testing.T, base, key string) *sseLines {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	s := &sseLines{resp: resp, lines: make(chan string, 100)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	if first := s.next(t); !strings.HasPrefix(first, "retry:") {
		t.Fatalf("first line %q", first)
	}
	return s
}

// next returns the next non-empty line; "" at the end of the stream.
func (s *sseLines) next(t *testing.T) string {
	t.Helper()
	deadline := time.After(hang)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok || line != "" {
				return line
			}
		case <-deadline:
			t.Fatal("nothing arrived on the stream")
		}
	}
}

// rest reads the stream to its end and returns its remaining lines.
func (s *sseLines) rest(t *testing.T) []string {
	t.Helper()
	var got []string
	for line := s.next(t); line != ""; line = s.next(t) {
		got = append(got, line)
	}
	return got
}

// SIGTERM with an event stream open: the stream ends at once with a
// comment, a request in flight (its body still arriving) is finished, and
// the server exits 0.
func TestSIGTERMEndsStreamsAndFinishesRequests(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	onEachSharedStore(t, sigtermEndsStreamsAndFinishesRequests)
}

func sigtermEndsStreamsAndFinishesRequests(t *testing.T, db string) {
	cmd, addr := startProcess(t, db, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	base := addr + "/v1/external"
	events := openEvents(t, base, instancesKey)

	// A create whose body is half sent: with Expect: 100-continue the
	// client sends the body only once the handler reads it, so the first
	// write returning means the request is in the server's hands.
	body, feed := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/incidents", body)
	req.Header.Set("Authorization", "Bearer "+instancesKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: hang}}
	answered := make(chan int, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("the request in flight: %v", err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	half := len(sos) / 2
	if _, err := feed.Write([]byte(sos[:half])); err != nil {
		t.Fatal(err)
	}

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	last := events.rest(t)
	t.Logf("the stream ended %v after SIGTERM with %q", time.Since(signalled).Round(time.Millisecond), last)
	if len(last) != 1 || !strings.Contains(last[0], "shutting down") {
		t.Fatalf("the stream's last lines %q, want one comment saying the server is shutting down", last)
	}
	if _, err := feed.Write([]byte(sos[half:])); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	if code := <-answered; code != http.StatusCreated {
		t.Fatalf("the request in flight was answered %d, want 201", code)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		stopped = true
		var exit *exec.ExitError
		if errors.As(err, &exit) || err != nil {
			t.Fatalf("the server exited with %v, want 0", err)
		}
	case <-time.After(hang):
		t.Fatal("the server did not exit")
	}
	t.Logf("the server exited 0, %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))
}

// Two server processes over one store: a key revoked through A ends its
// open event stream on B, with an error event carrying the 401 body, and
// an organization suspended by the admin command ends its streams on B
// with the 402 body; B learns both from the store alone, at its next
// recheck (here every 250 ms: SETY_KEY_CACHE_TTL sets both how long B
// trusts a key it read and how often it reads open streams' keys again).
func TestRevocationOnOneInstanceEndsStreamsOnAnother(t *testing.T) {
	onEachSharedStore(t, revocationOnOneInstanceEndsStreamsOnAnother)
}

func revocationOnOneInstanceEndsStreamsOnAnother(t *testing.T, db string) {
	common := []string{db, "SETY_RATE_LIMITS=false", "SETY_KEY_CACHE_TTL=250ms"}
	a := startInstance(t, append(common, "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)...)
	b := startInstance(t, common...)
	var created struct {
		APIKey struct {
			ID string `json:"key_id"`
		} `json:"api_key"`
		Key string `json:"key"`
	}
	if code := a.call(t, instancesKey, http.MethodPost, "/api-keys", `{"name":"console","scopes":["incidents:read"]}`, &created); code != http.StatusCreated {
		t.Fatalf("create a key on A: %d", code)
	}
	events := openEvents(t, b.base, created.Key)
	// The stream works: an incident created through A reaches it on B.
	if code := a.call(t, instancesKey, http.MethodPost, "/incidents", sos, nil); code != http.StatusCreated {
		t.Fatalf("create on A: %d", code)
	}
	for line := events.next(t); line != "event: incident.created"; line = events.next(t) {
		if line == "" {
			t.Fatal("the stream ended before the incident arrived")
		}
	}

	revoked := time.Now()
	if code := a.call(t, instancesKey, http.MethodDelete, "/api-keys/"+created.APIKey.ID, "", nil); code != http.StatusOK {
		t.Fatalf("revoke on A: %d", code)
	}
	events.wantError(t, `data: {"code":401,"message":"missing or invalid API key: send it as Authorization: Bearer <key>"}`)
	t.Logf("B's stream ended %v after A revoked its key", time.Since(revoked).Round(time.Millisecond))
	if code := b.call(t, created.Key, http.MethodGet, "/incidents", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("the revoked key on B: %d", code)
	}

	name, value, _ := strings.Cut(db, "=")
	storage := map[string]string{name: value}
	fields := strings.Fields(mustAdmin(t, storage, "orgs", "create", "--name", "Acme Rides", "--plan", "growth"))
	if len(fields) != 2 {
		t.Fatalf("orgs create printed %q", fields)
	}
	events = openEvents(t, b.base, fields[1])
	suspended := time.Now()
	mustAdmin(t, storage, "orgs", "suspend", fields[0])
	events.wantError(t, `data: {"code":402,"message":"organization is suspended"}`)
	t.Logf("B's stream ended %v after the admin command suspended its organization", time.Since(suspended).Round(time.Millisecond))
}

// wantError reads the stream to its end and fails unless its last event
// is an error whose data line starts with data.
func (s *sseLines) wantError(t *testing.T, data string) {
	t.Helper()
	var last []string
	for _, line := range s.rest(t) {
		if !strings.HasPrefix(line, "id:") && !strings.HasPrefix(line, ":") {
			last = append(last, line) // events still in flight, then the error
		}
	}
	n := len(last)
	if n < 2 || last[n-2] != "event: error" || !strings.HasPrefix(last[n-1], data) {
		t.Fatalf("the stream's last lines %q, want event: error with %s", last, data)
	}
}
