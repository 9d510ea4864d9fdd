package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// createBody is a realistic create: a live vehicle emergency with a
// subject, metadata, address and landmark, and no idempotency key, as
// bench/http.sh sends. Severity low: its assignment SLA (5 minutes)
// outlasts a measurement, and the measurements before are taken out of the
// engine's schedule (unschedule), so no breach sweep runs in one.
const createBody = `{"category":"vehicle","severity":"low","title":"Vehicle emergency reported by rider","description":"Rider reports the driver left the agreed route and stopped in an unlit street.","subject":{"name":"Amaka Obi","phone":"+2348012345678","email":"amaka.obi@example.com","reference":"TRIP-44821","metadata":{"trip_id":"trp_9x2k4m","vehicle_plate":"LND-482-KJ"}},"location":{"coordinates":[3.4219,6.4281],"address":"22 Adeola Odeku Street, Victoria Island, Lagos","landmark":"Opposite the filling station"}}`

// createOne creates an incident on the server at base and returns its id.
func createOne(ctx context.Context, base, key string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/external/incidents", strings.NewReader(createBody))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var created struct {
		Incident struct {
			ID string `json:"incident_id"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("%s (%v)", resp.Status, err)
	}
	return created.Incident.ID, nil
}

// loadResult is what one closed-loop load measured.
type loadResult struct {
	ok, failed int
	took       time.Duration
	latencies  []time.Duration // of the successful creates, sorted
	firstError string
}

func (r loadResult) rps() float64 { return float64(r.ok) / r.took.Seconds() }

// quantile of the successful creates' latencies, in milliseconds.
func (r loadResult) quantile(q float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := min(len(r.latencies)-1, int(q*float64(len(r.latencies))))
	return float64(r.latencies[i]) / float64(time.Millisecond)
}

// load runs clients closed loops for d, each sending its next create when
// the last is answered, until n creates have been sent (0: no limit);
// client i sends to targets[i % len(targets)]. The creates under way at
// the end are awaited, not cut short (a cut request is an error in the
// server's log), and counted.
func load(ctx context.Context, targets []string, key string, clients int, d time.Duration, n int64) loadResult {
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	deadline := time.Now().Add(d)
	var (
		mu  sync.Mutex
		out loadResult
		wg  sync.WaitGroup
	)
	var sent atomic.Int64
	start := time.Now()
	for i := range clients {
		target := targets[i%len(targets)] + "/v1/external/incidents"
		wg.Go(func() {
			var lat []time.Duration
			failed := 0
			first := ""
			for ctx.Err() == nil && time.Now().Before(deadline) && (n == 0 || sent.Add(1) <= n) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(createBody))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed++
					first = cmp.Or(first, err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					failed++
					first = cmp.Or(first, resp.Status)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			out.ok += len(lat)
			out.failed += failed
			out.latencies = append(out.latencies, lat...)
			out.firstError = cmp.Or(out.firstError, first)
			mu.Unlock()
		})
	}
	wg.Wait()
	out.took = time.Since(start)
	slices.Sort(out.latencies)
	return out
}
