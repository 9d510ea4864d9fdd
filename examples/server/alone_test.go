package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A server alone on its SQLite file answers gets without reading the
// stamp (adapters/sqlite, alone.go). Another server joins (the first steps
// back), changes an incident and is killed at once with SIGKILL, which
// ends its locks with it: every get through the first server from then on
// shows the change: here the first get after it, once the first server
// has found itself alone again (sety_store_alone; within 50 ms) and
// answers from what it keeps, three times over.
func TestAServerAloneSeesAKilledServersLastChange(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a server is alone on its file on Linux only")
	}
	db := "SETY_DB=" + filepath.Join(t.TempDir(), "sety.db")
	a := startInstance(t, db, "SETY_RATE_LIMITS=false", "SETY_BOOTSTRAP_LIVE_KEY="+instancesKey)
	var created struct {
		Incident struct {
			ID string `json:"incident_id"`
		}
	}
	if code := a.call(t, instancesKey, http.MethodPost, "/incidents", sos, &created); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	path := "/incidents/" + created.Incident.ID
	notes := func() int {
		var got struct {
			Incident struct{ Timeline []struct{ Message string } }
		}
		if code := a.call(t, instancesKey, http.MethodGet, path, "", &got); code != http.StatusOK {
			t.Fatalf("get: %d", code)
		}
		return len(got.Incident.Timeline)
	}
	for i := range 3 {
		before := notes()
		b := startInstance(t, db, "SETY_RATE_LIMITS=false")
		msg := fmt.Sprintf(`{"message":"from the killed server, %d"}`, i)
		if code := b.call(t, instancesKey, http.MethodPost, path+"/notes", msg, nil); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("note through the second server: %d", code)
		}
		if err := b.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = b.cmd.Wait()
		// No get until the server finds itself alone again, so that the
		// first get after the note is answered alone: from what it read
		// of the file when it became alone.
		for deadline := time.Now().Add(10 * time.Second); !alone(t, a); time.Sleep(5 * time.Millisecond) { // polling; it takes up to 50 ms
			if time.Now().After(deadline) {
				t.Fatal("the server is not alone 10 s after the other's SIGKILL")
			}
		}
		if n := notes(); n != before+1 {
			t.Fatalf("round %d, alone again after the other server's note and its SIGKILL: %d timeline entries, want %d", i, n, before+1)
		}
	}
}

// alone reads sety_store_alone from in's metrics.
func alone(t *testing.T, in *instance) bool {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(in.base, "/v1/external") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "sety_store_alone "); ok {
			return v == "1"
		}
	}
	t.Fatal("no sety_store_alone in the metrics")
	return false
}
