package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/pgtest"
)

func TestDatabaseURLSetting(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{"SETY_DATABASE_URL": "postgresql://sety@db/sety"}), io.Discard)
	if err != nil || c.databaseURL != "postgresql://sety@db/sety" {
		t.Fatalf("from environment: %+v %v", c, err)
	}
	for _, args := range [][]string{{"-database-url", "mysql://db/sety"}, {"-database-url", "postgres://db/sety", "-memory"}} {
		if _, err := parseConfig(args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "-database-url") {
			t.Fatalf("%v: err = %v", args, err)
		}
	}
	if got := storageName(config{storage: storage{databaseURL: "postgres://sety:hunter2@db/sety"}}); strings.Contains(got, "hunter2") {
		t.Fatalf("storage name %q shows the password", got)
	}
}

// Two servers started together on one PostgreSQL database bootstrap it
// once and serve the same data: what one creates, the other reads.
func TestTwoServersShareOnePostgres(t *testing.T) {
	const liveKey = "sety_live_5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	url := pgtest.URL(t)
	type server struct {
		addr   string
		stdout *bytes.Buffer
		cancel context.CancelFunc
		done   chan error
	}
	servers := make([]*server, 2)
	var wg sync.WaitGroup
	for i := range servers {
		vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DATABASE_URL": url, "SETY_BOOTSTRAP_LIVE_KEY": liveKey, "SETY_RATE_LIMITS": "false"}
		ctx, cancel := context.WithCancel(context.Background())
		s := &server{stdout: &bytes.Buffer{}, cancel: cancel, done: make(chan error, 1)}
		servers[i] = s
		ready := make(chan string, 1)
		go func() { s.done <- run(ctx, nil, env(vars), s.stdout, io.Discard, ready) }()
		wg.Go(func() {
			select {
			case s.addr = <-ready:
			case err := <-s.done:
				s.done <- err
			case <-time.After(30 * time.Second):
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, s := range servers {
			s.cancel()
			if err := <-s.done; err != nil {
				t.Errorf("server: %v", err)
			}
		}
	}()
	bootstrapped := 0
	for _, s := range servers {
		if s.addr == "" {
			t.Fatal("a server did not start")
		}
		if strings.Contains(s.stdout.String(), liveKey) {
			bootstrapped++
		}
	}
	if bootstrapped != 1 {
		t.Fatalf("%d servers bootstrapped the database, want 1", bootstrapped)
	}
	send := func(s *server, method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+s.addr+"/v1/external"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+liveKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	code, body := send(servers[0], http.MethodPost, "/incidents", `{"category":"sos","idempotency_key":"trip_1","location":{"coordinates":[3.3792,6.5244]}}`)
	if code != http.StatusCreated {
		t.Fatalf("create on the first: %d %s", code, body)
	}
	code, again := send(servers[1], http.MethodPost, "/incidents", `{"category":"sos","idempotency_key":"trip_1","location":{"coordinates":[3.3792,6.5244]}}`)
	if code != http.StatusOK || !strings.Contains(again, body[strings.Index(body, `"incident_id"`):][:40]) {
		t.Fatalf("replay on the second: %d %s", code, again)
	}
	if code, list := send(servers[1], http.MethodGet, "/incidents", ""); code != http.StatusOK || !strings.Contains(list, `"total":1`) {
		t.Fatalf("list on the second: %d %s", code, list)
	}
}
