package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Central Lagos, where the demo responders are.
const lagosLat, lagosLng = 6.5244, 3.3792

// workload is the open-loop load: a scheduler emits requests at the target
// rate, each for a tenant picked in proportion to its share, and a fixed
// set of clients send them. A request that finds every client busy waits
// in a backlog (its wait is the schedule lag); when the backlog is full too
// it is dropped and counted as missed.
type workload struct {
	win     *window
	mix     mix
	rate    float64
	clients int
	seed    uint64
	tenants []*tenant
	sampler *sampler
	advance float64
}

type accessCode struct{ site, code string }

type job struct {
	op string
	t  *tenant
	at time.Time
}

// run sends load for d, then waits for the requests in flight.
func (w *workload) run(ctx context.Context, d time.Duration) {
	jobs := make(chan job, max(int(w.rate), w.clients))
	var wg sync.WaitGroup
	for i := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(w.seed, uint64(i)+1))
			for j := range jobs {
				lag := time.Since(j.at)
				start := time.Now()
				name, status, o := w.exec(ctx, rng, j.t, j.op)
				if ctx.Err() != nil {
					continue // interrupted: not the server's doing
				}
				w.win.request(name, time.Since(start), o, status, lag)
			}
		}()
	}
	rng := rand.New(rand.NewPCG(w.seed, 0))
	cum := cumulativeShares(w.tenants)
	interval := time.Duration(float64(time.Second) / w.rate)
	start := time.Now()
	end := start.Add(d)
schedule:
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) {
			break
		}
		if wait := time.Until(at); wait > 0 {
			select {
			case <-ctx.Done():
				break schedule
			case <-time.After(wait):
			}
		}
		select {
		case jobs <- job{op: w.mix.pick(rng), t: pickTenant(w.tenants, cum, rng), at: at}:
		default:
			w.win.miss()
		}
	}
	close(jobs)
	wg.Wait()
}

// exec sends one request of op for tenant t and says how it went. name is
// the operation actually run: resolve with no known active incident scans
// for some instead, and an operation on an incident or a visit with none
// known lists incidents or validates instead.
func (w *workload) exec(ctx context.Context, rng *rand.Rand, t *tenant, op string) (name string, status int, o outcome) {
	switch op {
	case "create":
		return w.create(ctx, rng, t)
	case "get":
		id, found := t.recent.pick(rng, 200)
		if !found {
			return w.list(ctx, rng, t)
		}
		return w.get(ctx, t, id)
	case "list":
		return w.list(ctx, rng, t)
	case "resolve":
		return w.resolve(ctx, rng, t)
	case "cancel":
		id, found := t.recent.pick(rng, 20) // riders cancel soon after raising the alarm
		if !found {
			return w.list(ctx, rng, t)
		}
		status, _, err := t.api.do(ctx, http.MethodPost, "/incidents/"+id+"/cancel", map[string]string{"reason": "Rider confirmed safe"})
		if status == http.StatusOK {
			t.active.remove(id)
		}
		return "cancel", status, judge(status, err, http.StatusOK, true)
	case "note":
		id, found := t.recent.pick(rng, 50)
		if !found {
			return w.list(ctx, rng, t)
		}
		status, _, err := t.api.do(ctx, http.MethodPost, "/incidents/"+id+"/notes", map[string]string{"message": notes[rng.IntN(len(notes))]})
		return "note", status, judge(status, err, http.StatusCreated, false)
	case "validate":
		return w.validate(ctx, rng, t)
	case "checkout":
		id, found := t.visits.pop()
		if !found {
			return w.validate(ctx, rng, t)
		}
		status, _, err := t.api.do(ctx, http.MethodPatch, "/access-logs/"+id+"/checkout", map[string]string{"notes": "Left by the north gate"})
		return "checkout", status, judge(status, err, http.StatusOK, false)
	case "score":
		lat, lng := around(rng, 25)
		status, _, err := t.api.do(ctx, http.MethodGet, fmt.Sprintf("/safety/score?lat=%.5f&lng=%.5f", lat, lng), nil)
		return "score", status, judge(status, err, http.StatusOK, false)
	case "heatmap":
		lat, lng := around(rng, 20)
		dLat, dLng := 2500/111195.0, 2500/(111195*math.Cos(lat*math.Pi/180)) // a 5 km square
		q := fmt.Sprintf("/heatmap?bbox=%.5f,%.5f,%.5f,%.5f&cell_m=250", lng-dLng, lat-dLat, lng+dLng, lat+dLat)
		status, _, err := t.api.do(ctx, http.MethodGet, q, nil)
		return "heatmap", status, judge(status, err, http.StatusOK, false)
	}
	panic("unknown op " + op)
}

var notes = []string{"Rider called back: on the way home.", "Driver confirmed the location.", "Operator is following up by phone."}

// validate presents one of the tenant's codes at its site: a valid code
// checks the visitor in, and the visit joins those a checkout may end. An
// answer of 200 that refuses a valid code is an error.
func (w *workload) validate(ctx context.Context, rng *rand.Rand, t *tenant) (string, int, outcome) {
	c := t.codes[rng.IntN(len(t.codes))]
	status, b, err := t.api.do(ctx, http.MethodPost, "/access-codes/validate", map[string]string{"code": c.code, "site": c.site, "gate": "North gate"})
	o := judge(status, err, http.StatusOK, false)
	if o == succeeded {
		var res struct {
			Valid     bool   `json:"valid"`
			Reason    string `json:"reason"`
			AccessLog *struct {
				ID string `json:"log_id"`
			} `json:"access_log"`
		}
		if json.Unmarshal(b, &res) != nil || !res.Valid || res.AccessLog == nil {
			return "validate", status, failed
		}
		t.visits.push(res.AccessLog.ID)
	}
	return "validate", status, o
}

// judge classifies a response: the wanted status succeeds; a 409 is a race
// with the engine when racy; anything else, or a transport error, fails.
func judge(status int, err error, want int, racy bool) outcome {
	switch {
	case err != nil:
		return failed
	case status == want:
		return succeeded
	case racy && status == http.StatusConflict:
		return raced
	}
	return failed
}

// incidentView is the part of an incident the soak reads.
type incidentView struct {
	ID        string    `json:"incident_id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Timeline  []struct {
		Event     string    `json:"event"`
		Timestamp time.Time `json:"timestamp"`
	} `json:"timeline"`
}

// holdsResponder reports whether the incident has a responder that a
// resolve would free.
func (v incidentView) holdsResponder() bool {
	return v.Status == "assigned" || v.Status == "responding" || v.Status == "on_scene"
}

var (
	categories = []string{"sos", "sos", "sos", "sos", "vehicle", "vehicle", "vehicle", "location_threat", "location_threat", "medical"}
	names      = []string{"Amaka Obi", "Chidinma Eze", "Tunde Bakare", "Ifeoma Nwosu", "Segun Adeyemi", "Halima Bello", "Emeka Okafor", "Yetunde Alabi"}
	streets    = []string{"Adeola Odeku Street, Victoria Island", "Bourdillon Road, Ikoyi", "Admiralty Way, Lekki Phase 1", "Allen Avenue, Ikeja", "Herbert Macaulay Way, Yaba", "Awolowo Road, Ikoyi", "Ozumba Mbadiwe Avenue, Victoria Island"}
)

// severity: mostly high and medium, some critical, a few low.
func severity(r *rand.Rand) string {
	switch n := r.IntN(100); {
	case n < 10:
		return "critical"
	case n < 55:
		return "high"
	case n < 95:
		return "medium"
	}
	return "low"
}

func (w *workload) create(ctx context.Context, rng *rand.Rand, t *tenant) (string, int, outcome) {
	lat, lng := around(rng, 25)
	body := map[string]any{
		"category": categories[rng.IntN(len(categories))],
		"severity": severity(rng),
		"subject": map[string]any{
			"name":      names[rng.IntN(len(names))],
			"phone":     fmt.Sprintf("+234803%07d", rng.IntN(10_000_000)),
			"reference": fmt.Sprintf("TRIP-%06d", rng.IntN(1_000_000)),
			"metadata":  map[string]string{"app_version": "5.12.1", "platform": []string{"android", "ios"}[rng.IntN(2)]},
		},
		"location": map[string]any{
			"coordinates": []float64{round5(lng), round5(lat)},
			"address":     fmt.Sprintf("%d %s, Lagos", 1+rng.IntN(120), streets[rng.IntN(len(streets))]),
		},
	}
	if rng.IntN(3) == 0 {
		body["description"] = "Rider pressed the SOS button during the trip; the call to the rider went unanswered."
	}
	status, b, err := t.api.do(ctx, http.MethodPost, "/incidents", body)
	o := judge(status, err, http.StatusCreated, false)
	if o == succeeded {
		var out struct {
			Incident incidentView `json:"incident"`
		}
		if json.Unmarshal(b, &out) == nil && out.Incident.ID != "" {
			t.recent.add(out.Incident.ID)
			w.sampler.offer(t, out.Incident.ID)
			if out.Incident.holdsResponder() { // assigned in its own transaction
				t.active.add(out.Incident.ID, false)
			}
		}
	}
	return "create", status, o
}

func (w *workload) get(ctx context.Context, t *tenant, id string) (string, int, outcome) {
	status, b, err := t.api.do(ctx, http.MethodGet, "/incidents/"+id, nil)
	o := judge(status, err, http.StatusOK, false)
	if o == succeeded {
		var out struct {
			Incident incidentView `json:"incident"`
		}
		if json.Unmarshal(b, &out) == nil && out.Incident.holdsResponder() {
			t.active.add(id, out.Incident.Status == "on_scene")
		}
	}
	return "get", status, o
}

var listQueries = []string{
	"limit=20",
	"status=dispatching&limit=20",
	"status=assigned,responding,on_scene&limit=20",
	"severity=critical,high&limit=20",
	"category=vehicle&status=resolved&limit=20",
	"limit=20&page=2",
}

func (w *workload) list(ctx context.Context, rng *rand.Rand, t *tenant) (string, int, outcome) {
	return w.listQuery(ctx, t, "list", listQueries[rng.IntN(len(listQueries))])
}

// listQuery lists incidents and remembers those holding a responder.
func (w *workload) listQuery(ctx context.Context, t *tenant, name, query string) (string, int, outcome) {
	status, b, err := t.api.do(ctx, http.MethodGet, "/incidents?"+query, nil)
	o := judge(status, err, http.StatusOK, false)
	if o == succeeded {
		var page struct {
			Data []incidentView `json:"data"`
		}
		if json.Unmarshal(b, &page) == nil {
			for _, inc := range page.Data {
				if inc.holdsResponder() {
					t.active.add(inc.ID, inc.Status == "on_scene")
				}
			}
		}
	}
	return name, status, o
}

// resolve reports progress on an incident holding a responder, through the
// operations console: usually resolved (freeing the responder), sometimes
// on_scene first. With none known it scans for some first, as an operator
// would look at the board (a second request, recorded as a scan): a small
// tenant's few requests must still free its responders, or its queue grows
// for want of resolves, not through the server's doing.
func (w *workload) resolve(ctx context.Context, rng *rand.Rand, t *tenant) (string, int, outcome) {
	id, advanced, found := t.active.take()
	if !found {
		start := time.Now()
		name, status, o := w.listQuery(ctx, t, "scan", "status=assigned,responding,on_scene&limit=50")
		if id, advanced, found = t.active.take(); !found || o != succeeded {
			return name, status, o
		}
		if ctx.Err() == nil {
			w.win.request(name, time.Since(start), o, status, 0)
		}
	}
	body := map[string]string{"status": "resolved", "outcome": "handled"}
	step := false
	if !advanced && rng.Float64() < w.advance {
		body, step = map[string]string{"status": "on_scene", "message": "Unit at the scene"}, true
	}
	status, _, err := t.api.do(ctx, http.MethodPost, "/incidents/"+id+"/status", body)
	if step && status == http.StatusOK {
		t.active.put(id, true)
	}
	return "resolve", status, judge(status, err, http.StatusOK, true)
}

// around is a uniformly random point within km of central Lagos.
func around(r *rand.Rand, km float64) (lat, lng float64) {
	d := km * 1000 * math.Sqrt(r.Float64())
	theta := 2 * math.Pi * r.Float64()
	lat = lagosLat + d*math.Sin(theta)/111195
	lng = lagosLng + d*math.Cos(theta)/(111195*math.Cos(lagosLat*math.Pi/180))
	return lat, lng
}

func round5(x float64) float64 { return math.Round(x*1e5) / 1e5 }
