package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/internal/syncbuf"
)

const sos = `{"category":"sos","location":{"coordinates":[3.3792,6.5244]}}`

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFlagsAndEnvironment(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{"SETY_ADDR": "127.0.0.1:9999", "SETY_MEMORY": "1", "SETY_DB": "x.db"}), io.Discard)
	if err != nil || c.addr != "127.0.0.1:9999" || !c.memory || c.dbPath != "x.db" {
		t.Fatalf("from environment: %+v %v", c, err)
	}
	c, err = parseConfig([]string{"-addr", ":7000", "-memory=false"}, env(map[string]string{"SETY_ADDR": ":9999", "SETY_MEMORY": "1"}), io.Discard)
	if err != nil || c.addr != ":7000" || c.memory {
		t.Fatalf("flags must win over the environment: %+v %v", c, err)
	}
	if _, err := parseConfig(nil, env(map[string]string{"SETY_MEMORY": "maybe"}), io.Discard); err == nil || !strings.Contains(err.Error(), "SETY_MEMORY") {
		t.Fatalf("bad SETY_MEMORY: %v", err)
	}
	if _, err := parseConfig([]string{"-log-format", "xml"}, env(nil), io.Discard); err == nil {
		t.Fatal("bad log format accepted")
	}
	if c, err := parseConfig(nil, env(nil), io.Discard); err != nil || c.retention != 30*24*time.Hour {
		t.Fatalf("default retention: %v %v, want 30 days", c.retention, err)
	}
	if c, err := parseConfig(nil, env(map[string]string{"SETY_RETENTION": "0"}), io.Discard); err != nil || c.retention != 0 {
		t.Fatalf("SETY_RETENTION=0: %v %v, want 0 (forever)", c.retention, err)
	}
	if c, err := parseConfig([]string{"-retention", "168h"}, env(map[string]string{"SETY_RETENTION": "0"}), io.Discard); err != nil || c.retention != 7*24*time.Hour {
		t.Fatalf("-retention 168h: %v %v", c.retention, err)
	}
}

// The webhook secret key: one, or a comma-separated list while rotating
// (the first encrypts), each at least 32 characters.
func TestWebhookSecretKeyConfig(t *testing.T) {
	const newKey, oldKey = "a new key of at least 32 characters!", "the old key: also 32 characters long"
	c, err := parseConfig(nil, env(map[string]string{"SETY_WEBHOOK_SECRET_KEY": newKey + ", " + oldKey}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if keys := c.webhookSecretKeys(); len(keys) != 2 || string(keys[0]) != newKey || string(keys[1]) != oldKey {
		t.Fatalf("keys %q", keys)
	}
	c, err = parseConfig([]string{"-webhook-secret-key", newKey}, env(nil), io.Discard)
	if err != nil || len(c.webhookSecretKeys()) != 1 {
		t.Fatalf("one key: %q %v", c.webhookSecretKeys(), err)
	}
	if c, _ := parseConfig(nil, env(nil), io.Discard); c.webhookSecretKeys() != nil {
		t.Fatal("keys without the setting")
	}
	if _, err := parseConfig([]string{"-webhook-secret-key", newKey + ",short"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "32") {
		t.Fatalf("a short key: %v", err)
	}
}

// The server starts on SQLite, prints the bootstrap keys once, serves the
// API with them and shuts down cleanly when its context ends.
func TestRunBootstrapsServesAndShutsDown(t *testing.T) {
	const liveKey = "sety_live_0123456789abcdef0123456789abcdef"
	const testKey = "sety_test_fedcba9876543210fedcba9876543210"
	dbPath := filepath.Join(t.TempDir(), "sety.db")
	vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": dbPath, "SETY_BOOTSTRAP_LIVE_KEY": liveKey, "SETY_BOOTSTRAP_TEST_KEY": testKey}

	cancel, addr, stdout, done := startServer(t, vars)
	if !strings.Contains(stdout.String(), liveKey) || !strings.Contains(stdout.String(), testKey) {
		t.Fatalf("bootstrap output:\n%s", stdout.String())
	}
	if code := apitest.Call(t, http.MethodPost, "http://"+addr+"/v1/external/incidents", testKey, sos, nil); code != http.StatusCreated {
		t.Fatalf("create over the network: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not shut down")
	}

	// A restart on the same file keeps the data and prints no keys.
	cancel, addr, stdout, done = startServer(t, vars)
	defer func() { cancel(); <-done }()
	if stdout.Len() != 0 {
		t.Fatalf("restart printed %q", stdout.String())
	}
	var list struct {
		Pagination struct {
			Total int `json:"total"`
		} `json:"pagination"`
	}
	if code := apitest.Call(t, http.MethodGet, "http://"+addr+"/v1/external/incidents", testKey, "", &list); code != http.StatusOK || list.Pagination.Total != 1 {
		t.Fatalf("after restart: status %d, %d incidents", code, list.Pagination.Total)
	}
}

func TestBootstrapRejectsABadFixedKeyBeforeWriting(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sety.db")
	vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": dbPath, "SETY_BOOTSTRAP_LIVE_KEY": "sety_test_0123456789abcdef0123456789abcdef"}
	err := run(context.Background(), nil, env(vars), io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "live key") {
		t.Fatalf("err = %v", err)
	}
	// Nothing was written: a good key on the next start still bootstraps.
	vars["SETY_BOOTSTRAP_LIVE_KEY"] = "sety_live_0123456789abcdef0123456789abcdef"
	cancel, _, stdout, done := startServer(t, vars)
	cancel()
	<-done
	if !strings.Contains(stdout.String(), vars["SETY_BOOTSTRAP_LIVE_KEY"]) {
		t.Fatalf("second start did not bootstrap: %q", stdout.String())
	}
}

// startServer runs the server in the background until the returned cancel
// is called; done receives run's result.
func startServer(t *testing.T, vars map[string]string) (cancel context.CancelFunc, addr string, stdout *bytes.Buffer, done chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	stdout = &bytes.Buffer{}
	done = make(chan error, 1)
	go func() { done <- run(ctx, nil, env(vars), stdout, io.Discard, ready) }()
	select {
	case addr = <-ready:
		return cancel, addr, stdout, done
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	return nil, "", nil, nil
}

// Bootstrap keys only seed an empty database; on one that has an
// organization they are ignored, and the server says so.
func TestBootstrapKeysOnAnExistingDatabaseAreReported(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sety.db")
	vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": dbPath}
	cancel, _, _, done := startServer(t, vars)
	cancel()
	<-done
	vars["SETY_BOOTSTRAP_LIVE_KEY"] = "sety_live_0123456789abcdef0123456789abcdef"
	var logs syncbuf.Buffer
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	finished := make(chan error, 1)
	go func() { finished <- run(ctx, nil, env(vars), io.Discard, &logs, ready) }()
	<-ready
	stop()
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "bootstrap keys are ignored") {
		t.Fatalf("no warning about the ignored keys:\n%s", logs.String())
	}
}
