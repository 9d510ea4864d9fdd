package webhook_test

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sety-io/sety"
	"github.com/sety-io/sety/adapters/memory"
	"github.com/sety-io/sety/adapters/sqlite"
	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/webhook"
)

var (
	keyOne = []byte("the first key, at least 32 bytes long")
	keyTwo = []byte("the second key, at least 32 bytes long")
)

// withKeys builds Sety over f's stores with the given secret keys, as a
// process configured so.
func (f *fixture) withKeys(keys ...[]byte) *sety.Sety {
	return f.instance(webhook.Config{}, sety.WithWebhookSecretKeys(keys...))
}

// stored returns the endpoint as the store keeps it.
func (f *fixture) stored(e *webhook.Endpoint) *webhook.Endpoint {
	f.t.Helper()
	got, err := f.stores.WebhookStore().GetEndpoint(f.ctx, e.Tenant(), e.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// deliversVerifiably has s deliver a new incident's event to r and checks
// that the request verifies with secret.
func (f *fixture) deliversVerifiably(s *sety.Sety, r *receiver, secret string) {
	f.t.Helper()
	f.incident(f.live)
	before := len(r.requests())
	if _, err := s.Webhooks.Tick(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	got := r.requests()
	if len(got) != before+1 {
		f.t.Fatalf("%d requests, want %d", len(got), before+1)
	}
	req := got[len(got)-1]
	if err := webhook.Verify(secret, req.header, req.body, f.clk.Now(), webhook.DefaultTolerance); err != nil {
		f.t.Fatalf("the delivery does not verify: %v", err)
	}
}

// Secrets are stored sealed, never in clear, with or without a configured
// key; what is shown once signs.
func TestSecretsAreSealedAtRest(t *testing.T) {
	for name, keys := range map[string][][]byte{"stored key": nil, "configured key": {keyOne}} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, memory.New())
			s := f.withKeys(keys...)
			r := newReceiver(t)
			e, secret, err := s.Webhooks.CreateEndpoint(f.ctx, f.live, webhook.CreateEndpointRequest{URL: r.URL, Events: []string{"incident.created"}})
			if err != nil {
				t.Fatal(err)
			}
			_, rotated, err := s.Webhooks.RotateSecret(f.ctx, f.live, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := f.stored(e)
			for _, stored := range []string{got.Secret, got.PreviousSecret} {
				if !strings.HasPrefix(stored, "sety:v1:") || strings.Contains(stored, secret[6:]) || strings.Contains(stored, rotated[6:]) {
					t.Fatalf("stored secret %q", stored)
				}
			}
			f.deliversVerifiably(s, r, secret)
			f.deliversVerifiably(s, r, rotated)
			// Another process with the same keys opens them.
			f.deliversVerifiably(f.withKeys(keys...), r, rotated)
		})
	}
}

// Rotating the key: the new key first and the old one after it opens
// everything; ReencryptSecrets (Run calls it on start) seals every secret
// with the new key; then the old one can go. A process without the key
// that sealed a secret sends nothing and says why.
func TestSecretKeyRotation(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sety.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := newFixture(t, db)
	r := newReceiver(t)
	old := f.withKeys(keyOne)
	e, secret, err := old.Webhooks.CreateEndpoint(f.ctx, f.live, webhook.CreateEndpointRequest{URL: r.URL, Events: []string{"incident.created"}})
	if err != nil {
		t.Fatal(err)
	}
	sealedByOne := f.stored(e).Secret

	both := f.withKeys(keyTwo, keyOne)
	if got, err := both.Webhooks.Endpoint(f.ctx, f.live, e.ID); err != nil || got.Secret != sealedByOne {
		t.Fatalf("a read re-encrypted: %v", err)
	}
	if n, err := both.Webhooks.ReencryptSecrets(f.ctx); err != nil || n != 1 {
		t.Fatalf("re-encryption: %d endpoints, %v; want 1", n, err)
	}
	if n, err := both.Webhooks.ReencryptSecrets(f.ctx); err != nil || n != 0 {
		t.Fatalf("second re-encryption: %d endpoints, %v; want 0", n, err)
	}
	if got := f.stored(e).Secret; got == sealedByOne || !strings.HasPrefix(got, "sety:v1:") {
		t.Fatalf("after re-encryption the secret is %q", got)
	}
	f.deliversVerifiably(both, r, secret)
	f.deliversVerifiably(f.withKeys(keyTwo), r, secret)

	// Without the key that sealed it nothing is sent, no attempt counts,
	// and Tick says why.
	f.incident(f.live)
	before := len(r.requests())
	_, err = f.withKeys(keyOne).Webhooks.Tick(f.ctx)
	if err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("tick with the old key only: %v", err)
	}
	if len(r.requests()) != before {
		t.Fatal("a delivery went out without its secret")
	}
	f.clk.Advance(time.Hour) // the lease expired: the right key sends it
	if n, err := f.withKeys(keyTwo).Webhooks.Tick(f.ctx); err != nil || n != 1 || len(r.requests()) != before+1 {
		t.Fatalf("with the key again: %d attempts, %v", n, err)
	}
	for _, d := range f.deliveries(f.live, e) {
		if d.Status != webhook.Succeeded || d.Attempts != 1 {
			t.Fatalf("delivery %+v", d)
		}
	}
}

// A sealed secret opens only for its own endpoint: moved to another in the
// database, it signs nothing.
func TestSealedSecretIsBoundToItsEndpoint(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	s := f.withKeys(keyOne)
	a, _, _ := s.Webhooks.CreateEndpoint(f.ctx, f.live, webhook.CreateEndpointRequest{URL: r.URL, Events: []string{"incident.created"}})
	b, _, _ := s.Webhooks.CreateEndpoint(f.ctx, f.test, webhook.CreateEndpointRequest{URL: r.URL, Events: []string{"incident.created"}})
	bSecret := f.stored(b).Secret
	if _, err := f.stores.WebhookStore().UpdateEndpoint(f.ctx, f.live, a.ID, func(e *webhook.Endpoint) error {
		e.Secret = bSecret
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.incident(f.live)
	if _, err := s.Webhooks.Tick(f.ctx); err == nil || len(r.requests()) != 0 {
		t.Fatalf("a secret moved to another endpoint signed: %v, %d requests", err, len(r.requests()))
	}
}

// An earlier version stored secrets in clear in SQLite. They keep signing
// after the upgrade: an endpoint that gets a delivery is sealed on its
// attempt, and one that gets none by the re-encryption Run starts with, so
// none is left in clear in the file.
func TestClearSecretsFromAnEarlierVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sety.db")
	db, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := newFixture(t, db)
	r := newReceiver(t)
	// The rows as the earlier version wrote them: the secrets as they are.
	current, previous := webhook.NewSecret(), webhook.NewSecret()
	now := clock.At(f.clk.Now())
	busy := &webhook.Endpoint{ID: "we_0000000000000001", URL: r.URL, Events: []string{"incident.created"}, Status: webhook.Enabled, CreatedAt: now, UpdatedAt: now,
		OrgID: f.live.OrgID, Environment: auth.Live, Secret: current, PreviousSecret: previous, PreviousExpiresAt: f.clk.Now().Add(time.Hour)}
	idle := &webhook.Endpoint{ID: "we_0000000000000002", URL: r.URL, Events: []string{"access.checked_out"}, Status: webhook.Enabled, CreatedAt: now, UpdatedAt: now,
		OrgID: f.live.OrgID, Environment: auth.Live, Secret: webhook.NewSecret()}
	for _, e := range []*webhook.Endpoint{busy, idle} {
		if err := db.WebhookStore().CreateEndpoint(f.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	s := f.withKeys(keyOne)
	f.deliversVerifiably(s, r, current)
	f.deliversVerifiably(s, r, previous)

	// A server starts its worker: Run re-encrypts first, and says so.
	logged := make(chan struct{})
	server := f.instance(webhook.Config{}, sety.WithWebhookSecretKeys(keyOne),
		sety.WithLogger(slog.New(slog.NewTextHandler(&signalWriter{what: "re-encrypted", done: logged}, nil))))
	ctx, stop := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { defer close(done); server.Webhooks.Run(ctx) }()
	<-logged
	stop()
	<-done
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT coalesce(secret, '') || ' ' || coalesce(previous_secret, '') FROM webhook_endpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var stored string
		if err := rows.Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, "sety:v1:") || strings.Contains(stored, "whsec_") {
			t.Fatalf("stored after the upgrade: %q", stored)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d endpoints in the file, want 2", n)
	}
	f.deliversVerifiably(s, r, current)
	f.deliversVerifiably(f.withKeys(keyOne), r, previous)
}

// signalWriter closes done the first time a write contains what.
type signalWriter struct {
	what string
	done chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.what) {
		w.once.Do(func() { close(w.done) })
	}
	return len(p), nil
}

func TestShortSecretKeyIsRefused(t *testing.T) {
	if _, err := sety.New(memory.New(), sety.WithWebhookSecretKeys([]byte("short"))); err == nil || !strings.Contains(err.Error(), "32") {
		t.Fatalf("err = %v", err)
	}
}

// Secrets sealed with the store's key, before a key was configured, open
// once one is, and move to it.
func TestConfiguringAKeyLater(t *testing.T) {
	f := newFixture(t, memory.New())
	r := newReceiver(t)
	e, secret := f.endpoint(f.live, r.URL, "incident.created") // no key configured
	s := f.withKeys(keyOne)
	if n, err := s.Webhooks.ReencryptSecrets(f.ctx); err != nil || n != 1 {
		t.Fatalf("re-encryption: %d, %v", n, err)
	}
	sealed := f.stored(e).Secret
	f.deliversVerifiably(s, r, secret)
	if f.stored(e).Secret != sealed {
		t.Fatal("an attempt re-sealed a secret already sealed with the current key")
	}
}
