package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sety-io/sety/internal/apitest"
	"github.com/sety-io/sety/internal/pgtest"
)

// admin runs an admin command in this process with the environment vars,
// as the binary would, and returns its stdout and stderr.
func admin(t *testing.T, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := dispatch(context.Background(), args, env(vars), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// mustAdmin is admin that fails the test on an error.
func mustAdmin(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	out, errs, err := admin(t, vars, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errs)
	}
	return out
}

func TestAdminCommandsBesideAServerOnSQLite(t *testing.T) {
	testAdminCommandsBesideAServer(t, map[string]string{"SETY_DB": filepath.Join(t.TempDir(), "sety.db")})
}

func TestAdminCommandsBesideAServerOnPostgres(t *testing.T) {
	testAdminCommandsBesideAServer(t, map[string]string{"SETY_DATABASE_URL": pgtest.URL(t)})
}

// The admin commands work on the database a server is using: the keys and
// organizations they make work against it at once, and their revocations
// and suspensions apply (the server runs without a key cache, so at once).
func testAdminCommandsBesideAServer(t *testing.T, storage map[string]string) {
	const bootstrapKey = "sety_live_0123456789abcdef0123456789abcdef"
	vars := maps.Clone(storage)
	maps.Copy(vars, map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_BOOTSTRAP_LIVE_KEY": bootstrapKey, "SETY_KEY_CACHE_TTL": "-1s"})
	cancel, addr, _, done := startServer(t, vars)
	defer func() { cancel(); <-done }()
	call := func(method, path, key, body string) int {
		t.Helper()
		return apitest.Call(t, method, "http://"+addr+"/v1/external"+path, key, body, nil)
	}
	if out := mustAdmin(t, storage, "orgs", "list"); !strings.Contains(out, "Sety sandbox") || !strings.Contains(out, "enterprise") {
		t.Fatalf("orgs list:\n%s", out)
	}

	// A new organization and its first key, used at once.
	fields := strings.Fields(mustAdmin(t, storage, "orgs", "create", "--name", "Acme Rides", "--plan", "growth"))
	if len(fields) != 2 || !strings.HasPrefix(fields[0], "org_") || !strings.HasPrefix(fields[1], "sety_live_") {
		t.Fatalf("orgs create printed %q, want the id and a live key", fields)
	}
	org, first := fields[0], fields[1]
	if code := call(http.MethodPost, "/incidents", first, sos); code != http.StatusCreated {
		t.Fatalf("the new organization's key: %d", code)
	}

	// A narrower test key on that organization.
	key := strings.TrimSpace(mustAdmin(t, storage, "keys", "create", "--org", org, "--env", "test",
		"--scopes", "incidents:read,incidents:write", "--name", "ci"))
	if !strings.HasPrefix(key, "sety_test_") {
		t.Fatalf("keys create printed %q", key)
	}
	if code := call(http.MethodPost, "/incidents", key, sos); code != http.StatusCreated {
		t.Fatalf("the CLI's key creating an incident: %d", code)
	}
	if code := call(http.MethodGet, "/webhooks", key, ""); code != http.StatusForbidden {
		t.Fatalf("the CLI's key beyond its scopes: %d, want 403", code)
	}
	// The auth package's scopes, bundles included: what a console signs in with.
	console := strings.TrimSpace(mustAdmin(t, storage, "keys", "create", "--org", org, "--env", "live", "--scopes", "console", "--name", "dispatcher"))
	if code := call(http.MethodGet, "/incidents", console, ""); code != http.StatusOK {
		t.Fatalf("a console key reading incidents: %d", code)
	}
	if code := call(http.MethodGet, "/webhooks", console, ""); code != http.StatusForbidden {
		t.Fatalf("a console key managing webhooks: %d, want 403", code)
	}
	// A dispatcher signs in to the console with it.
	session := signIn(t, "http://"+addr+"/v1/external", console)
	if code := inSession(t, "http://"+addr+"/v1/external/incidents", session); code != http.StatusOK {
		t.Fatalf("the console key's session: %d", code)
	}
	list := mustAdmin(t, storage, "keys", "list", "--org", org, "--env", "test")
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 2 || !strings.Contains(list, "incidents:read,incidents:write") {
		t.Fatalf("keys list --org: %d lines\n%s", len(lines), list)
	}
	id := ""
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[2] == "test" && f[0] != "KEY_ID" {
			id = f[0]
		}
	}
	if all := mustAdmin(t, storage, "keys", "list"); !strings.Contains(all, id) || !strings.Contains(all, "bootstrap live key") {
		t.Fatalf("keys list of every organization:\n%s", all)
	}

	// Revocation and suspension reach the running server.
	if out := mustAdmin(t, storage, "keys", "revoke", id); !strings.Contains(out, "Revoked "+id) {
		t.Fatalf("keys revoke: %s", out)
	}
	if code := call(http.MethodGet, "/incidents", key, ""); code != http.StatusUnauthorized {
		t.Fatalf("a key revoked by the CLI: %d, want 401", code)
	}
	if out := mustAdmin(t, storage, "keys", "revoke", id); !strings.Contains(out, "revoked already") {
		t.Fatalf("a second revoke: %s", out)
	}
	// Revoking the console key ends the dispatcher's session.
	consoleID := ""
	for _, line := range strings.Split(mustAdmin(t, storage, "keys", "list", "--org", org, "--env", "live"), "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[3] == "dispatcher" {
			consoleID = f[0]
		}
	}
	if out := mustAdmin(t, storage, "keys", "revoke", consoleID); !strings.Contains(out, "console sessions") {
		t.Fatalf("keys revoke of the console key: %s", out)
	}
	if code := inSession(t, "http://"+addr+"/v1/external/incidents", session); code != http.StatusUnauthorized {
		t.Fatalf("a session of a key the CLI revoked: %d, want 401", code)
	}
	mustAdmin(t, storage, "orgs", "suspend", org)
	if code := call(http.MethodGet, "/incidents", first, ""); code != http.StatusPaymentRequired {
		t.Fatalf("a key of an organization the CLI suspended: %d, want 402", code)
	}
	if code := call(http.MethodGet, "/incidents", bootstrapKey, ""); code != http.StatusOK {
		t.Fatalf("another organization's key after the suspension: %d", code)
	}
	mustAdmin(t, storage, "orgs", "resume", org)
	if code := call(http.MethodGet, "/incidents", first, ""); code != http.StatusOK {
		t.Fatalf("after orgs resume: %d", code)
	}
	if out := mustAdmin(t, storage, "orgs", "list"); !strings.Contains(out, org) || strings.Contains(out, "suspended") {
		t.Fatalf("orgs list after resume:\n%s", out)
	}
}

// A backup taken while a server writes opens as a database, under a server
// started with -db on it, and holds every incident acknowledged before the
// backup began.
func TestBackupWhileAServerWrites(t *testing.T) {
	const key = "sety_live_b4c4b4c4b4c4b4c4b4c4b4c4b4c4b4c4"
	dir := t.TempDir()
	storage := map[string]string{"SETY_DB": filepath.Join(dir, "sety.db")}
	vars := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": storage["SETY_DB"], "SETY_BOOTSTRAP_LIVE_KEY": key, "SETY_RATE_LIMITS": "false"}
	cancel, addr, _, done := startServer(t, vars)
	defer func() { cancel(); <-done }()

	var (
		mu       sync.Mutex
		acked    []string
		underway = make(chan struct{}) // closed at the 40th acknowledged create
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var created struct {
					Incident struct {
						ID string `json:"incident_id"`
					} `json:"incident"`
				}
				if code := apitest.Call(t, http.MethodPost, "http://"+addr+"/v1/external/incidents", key, sos, &created); code != http.StatusCreated {
					t.Errorf("create: %d", code)
					return
				}
				mu.Lock()
				if acked = append(acked, created.Incident.ID); len(acked) == 40 {
					close(underway)
				}
				mu.Unlock()
			}
		})
	}
	<-underway
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backupPath := filepath.Join(dir, "backup.db")
	out, errs, err := admin(t, storage, "backup", backupPath)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, errs)
	}
	if !strings.Contains(out, "-db "+backupPath) {
		t.Fatalf("backup printed %q", out)
	}
	if _, errs, err := admin(t, storage, "backup", backupPath); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("a second backup to the same file: %v %s", err, errs)
	}

	restored := map[string]string{"SETY_ADDR": "127.0.0.1:0", "SETY_DB": backupPath}
	stopRestored, restoredAddr, stdout, restoredDone := startServer(t, restored)
	defer func() { stopRestored(); <-restoredDone }()
	if stdout.Len() != 0 {
		t.Fatalf("the server on the backup bootstrapped it again: %q", stdout.String())
	}
	for _, id := range before {
		if code := apitest.Call(t, http.MethodGet, "http://"+restoredAddr+"/v1/external/incidents/"+id, key, "", nil); code != http.StatusOK {
			t.Fatalf("incident %s, acknowledged before the backup, is not in it: %d", id, code)
		}
	}
	var list struct {
		Pagination struct {
			Total int `json:"total"`
		} `json:"pagination"`
	}
	apitest.Call(t, http.MethodGet, "http://"+restoredAddr+"/v1/external/incidents?limit=1", key, "", &list)
	if list.Pagination.Total < len(before) {
		t.Fatalf("the backup holds %d incidents, fewer than the %d acknowledged before it", list.Pagination.Total, len(before))
	}
	t.Logf("%d incidents acknowledged before the backup, %d in it, %d acknowledged in all", len(before), list.Pagination.Total, len(acked))
}

// Names come from tenants: a listing shows one that would drive the
// operator's terminal quoted, escapes visible.
func TestAdminListingsQuoteHostileNames(t *testing.T) {
	storage := map[string]string{"SETY_DB": filepath.Join(t.TempDir(), "sety.db")}
	mustAdmin(t, storage, "migrate")
	evil := "Acme\x1b[2J\x1b[31m Rides\r"
	org := strings.Fields(mustAdmin(t, storage, "orgs", "create", "--name", evil, "--plan", "starter"))[0]
	mustAdmin(t, storage, "keys", "create", "--org", org, "--env", "live", "--scopes", "*", "--name", "ci\x07\tbell")
	for _, args := range [][]string{{"orgs", "list"}, {"keys", "list"}} {
		out := mustAdmin(t, storage, args...)
		if strings.ContainsAny(out, "\x1b\r\x07") {
			t.Fatalf("%v printed a control character: %q", args, out)
		}
	}
	if out := mustAdmin(t, storage, "orgs", "list"); !strings.Contains(out, fmt.Sprintf("%q", strings.TrimSpace(evil))) {
		t.Fatalf("orgs list does not show the name quoted:\n%s", out)
	}
}

// keysCreate prints the key alone on stdout: a script keeps it with $(...).
func TestKeysCreatePrintsOnlyTheKey(t *testing.T) {
	storage := map[string]string{"SETY_DB": filepath.Join(t.TempDir(), "sety.db")}
	mustAdmin(t, storage, "migrate")
	org := strings.Fields(mustAdmin(t, storage, "orgs", "create", "--name", "Acme", "--plan", "growth", "--env", "test", "--scopes", "incidents:read"))[0]
	out := mustAdmin(t, storage, "keys", "create", "--org", org, "--env", "live", "--scopes", "threat:read", "--name", "maps")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || len(lines[0]) != len("sety_live_")+32 {
		t.Fatalf("stdout %q, want one live key", out)
	}
	listed := mustAdmin(t, storage, "keys", "list", "--org", org, "--env", "test")
	if !strings.Contains(listed, "incidents:read") || strings.Contains(listed, "threat:read") {
		t.Fatalf("keys list --env test:\n%s", listed)
	}
}

// signIn exchanges key for a console session on the API at base and
// returns the session cookie.
func signIn(t *testing.T, base, key string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || len(resp.Cookies()) != 1 {
		t.Fatalf("sign in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	return resp.Cookies()[0]
}

// inSession reads url as the console page does, with the session cookie,
// and returns the status.
func inSession(t *testing.T, url string, session *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.AddCookie(session)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
