package sety_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// mixed runs one client's share of a mixed workload and tallies what the
// server acknowledged.
type tally struct {
	created, replays, notes, cancels, logs, checkouts, reads atomic.Int64
}

// sendFunc sends one request with the live key and returns status and body.
type sendFunc func(method, path, body string) (int, []byte)

func humaSend(h *harness) sendFunc {
	return func(method, path, body string) (int, []byte) {
		var b any
		if body != "" {
			b = body
		}
		rec := h.do(method, path, h.live, b)
		return rec.Code, rec.Body.Bytes()
	}
}

func mixedClient(t testing.TB, send sendFunc, client, ops int, tl *tally) {
	var incidents, logs []string
	for i := range ops {
		switch i % 7 {
		case 0, 4: // create; every other create repeats a key of this client
			key := fmt.Sprintf("c%d-%d", client, i/2)
			if i%4 == 0 {
				key = fmt.Sprintf("c%d-shared", client)
			}
			code, raw := send(http.MethodPost, "/incidents", `{"category":"sos","idempotency_key":"`+key+`","location":{"coordinates":[3.38,6.52]}}`)
			var body struct {
				Incident struct {
					ID string `json:"incident_id"`
				}
				Idempotent bool
			}
			_ = json.Unmarshal(raw, &body)
			switch code {
			case http.StatusCreated:
				tl.created.Add(1)
				incidents = append(incidents, body.Incident.ID)
			case http.StatusOK:
				tl.replays.Add(1)
			default:
				t.Errorf("create: %d %s", code, raw)
			}
		case 1:
			if len(incidents) > 0 {
				if code, _ := send(http.MethodPost, "/incidents/"+incidents[len(incidents)-1]+"/notes", `{"message":"update"}`); code == http.StatusCreated {
					tl.notes.Add(1)
				} else {
					t.Errorf("note: %d", code)
				}
			}
		case 2:
			if len(incidents) > 1 {
				switch code, _ := send(http.MethodPost, "/incidents/"+incidents[0]+"/cancel", ""); code {
				case http.StatusOK:
					tl.cancels.Add(1)
				case http.StatusConflict:
				default:
					t.Errorf("cancel: %d", code)
				}
			}
		case 3:
			code, raw := send(http.MethodPost, "/access-logs", `{"site":"gate-a","visitor":{"name":"V"}}`)
			var body struct {
				AccessLog struct {
					ID string `json:"log_id"`
				} `json:"access_log"`
			}
			_ = json.Unmarshal(raw, &body)
			if code != http.StatusCreated {
				t.Errorf("log: %d", code)
				continue
			}
			tl.logs.Add(1)
			logs = append(logs, body.AccessLog.ID)
		case 5:
			if len(logs) > 0 {
				id := logs[0]
				logs = logs[1:]
				if code, _ := send(http.MethodPatch, "/access-logs/"+id+"/checkout", ""); code == http.StatusOK {
					tl.checkouts.Add(1)
				} else {
					t.Errorf("checkout: %d", code)
				}
			}
		case 6:
			for _, path := range []string{"/incidents?limit=5", "/access-logs/current", "/access-logs/stats"} {
				if code, _ := send(http.MethodGet, path, ""); code != http.StatusOK {
					t.Errorf("GET %s: %d", path, code)
				}
			}
			tl.reads.Add(1)
		}
	}
}

// Many clients at once, on both adapters: no error, and totals that add up.
func TestMixedConcurrentLoad(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]*harness{"memory": newMemoryHarness(t), "sqlite": newSQLiteHarness(t), "postgres": newPostgresHarness(t)} {
		t.Run(name, func(t *testing.T) {
			const clients, ops = 8, 70
			var tl tally
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() { mixedClient(t, humaSend(h), c, ops, &tl) })
			}
			wg.Wait()
			total := func(path string) float64 {
				return wantStatus(t, h.do(http.MethodGet, path, h.live, nil), http.StatusOK)["pagination"].(map[string]any)["total"].(float64)
			}
			if got := total("/incidents"); int64(got) != tl.created.Load() {
				t.Errorf("%v incidents stored, %d creates acknowledged", got, tl.created.Load())
			}
			if got := total("/incidents?status=cancelled"); int64(got) != tl.cancels.Load() {
				t.Errorf("%v cancelled, %d cancels acknowledged", got, tl.cancels.Load())
			}
			notes := 0
			for page := 1; ; page++ {
				body := wantStatus(t, h.do(http.MethodGet, fmt.Sprintf("/incidents?limit=100&page=%d", page), h.live, nil), http.StatusOK)
				for _, inc := range body["data"].([]any) {
					for _, e := range inc.(map[string]any)["timeline"].([]any) {
						if e.(map[string]any)["event"] == "note_added" {
							notes++
						}
					}
				}
				if body["pagination"].(map[string]any)["has_more"] != true {
					break
				}
			}
			if int64(notes) != tl.notes.Load() {
				t.Errorf("%d notes stored, %d acknowledged", notes, tl.notes.Load())
			}
			if got := total("/access-logs"); int64(got) != tl.logs.Load() {
				t.Errorf("%v logs stored, %d acknowledged", got, tl.logs.Load())
			}
			if got := total("/access-logs?status=checked_out"); int64(got) != tl.checkouts.Load() {
				t.Errorf("%v checked out, %d acknowledged", got, tl.checkouts.Load())
			}
			if tl.replays.Load() == 0 || tl.created.Load() == 0 {
				t.Errorf("the workload made %d creates and %d replays", tl.created.Load(), tl.replays.Load())
			}
		})
	}
}
