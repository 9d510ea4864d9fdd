package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tenant is one organization the load goes to: its key, its plan and what
// the soak knows of its data.
type tenant struct {
	name  string // "tenant 17", for messages
	org   string // its organization id; "" for the bootstrap organization
	plan  string // starter, growth or enterprise; "" when rate limits are off
	limit int    // its plan's requests a minute; 0: not limited
	api   *api
	share float64 // its part of the workload's rate, 0 to 1

	codes      []accessCode
	endpoint   string // its webhook endpoint at the receiver
	responders int    // on duty in its pool

	recent ring  // incidents the soak created for it, newest last
	active *pool // its incidents known to hold a responder: resolve takes from here
	visits queue // its visitors checked in by a validation, for checkouts
}

func newTenant(name, org, plan string, a *api) *tenant {
	return &tenant{name: name, org: org, plan: plan, limit: planLimits[plan], api: a, active: newPool()}
}

// planLimits are the plans' requests a minute (contract §2).
var planLimits = map[string]int{"starter": 60, "growth": 300, "enterprise": 1000}

var planNames = []string{"starter", "growth", "enterprise"}

// parsePlans reads "plan=weight,..." into how many of n tenants get each
// plan: every plan its share, rounded so that they add up to n.
func parsePlans(s string, n int) (map[string]int, error) {
	weights := map[string]float64{}
	total := 0.0
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, ws, found := strings.Cut(part, "=")
		w, err := strconv.ParseFloat(strings.TrimSpace(ws), 64)
		name = strings.TrimSpace(name)
		if !found || planLimits[name] == 0 || err != nil || !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("plans: %q is not plan=weight with plan one of %s and weight ≥ 0", part, strings.Join(planNames, ", "))
		}
		if _, dup := weights[name]; dup {
			return nil, fmt.Errorf("plans: %s given twice", name)
		}
		weights[name] = w
		total += w
	}
	if !(total > 0) {
		return nil, errors.New("plans: no plan has a weight")
	}
	counts := map[string]int{}
	given := 0
	for _, p := range planNames {
		counts[p] = int(float64(n) * weights[p] / total)
		given += counts[p]
	}
	// The rest, one each, to the plans with the largest remainders.
	byRest := slicesOfPlans(weights)
	sort.SliceStable(byRest, func(i, j int) bool {
		ri := float64(n)*weights[byRest[i]]/total - float64(counts[byRest[i]])
		rj := float64(n)*weights[byRest[j]]/total - float64(counts[byRest[j]])
		return ri > rj
	})
	for i := 0; given < n; i++ {
		counts[byRest[i%len(byRest)]]++
		given++
	}
	return counts, nil
}

func slicesOfPlans(weights map[string]float64) []string {
	var out []string
	for _, p := range planNames {
		if weights[p] > 0 {
			out = append(out, p)
		}
	}
	return out
}

// assignShares gives each tenant its part of the rate in proportion to its
// plan's limit (a larger customer sends more), so every tenant runs at the
// same fraction of its plan; without plans, equal parts.
func assignShares(ts []*tenant) {
	total := 0.0
	for _, t := range ts {
		total += float64(max(t.limit, 1))
	}
	for _, t := range ts {
		t.share = float64(max(t.limit, 1)) / total
	}
}

// respondersFor is how many responders a tenant on a plan of limit
// requests a minute puts on duty: perEnterprise for the enterprise plan,
// other plans in proportion (a larger customer raises more incidents), at
// least two: a tenant making a request a minute resolves rarely, and with
// one responder its second incident waits for its first to be resolved.
func respondersFor(limit, perEnterprise int) int {
	return max(2, (perEnterprise*limit+999)/1000)
}

// checkBudget refuses a rate that would take a limited tenant past
// planShare of its plan in a minute (its setup requests counted): the soak
// measures the server, not its 429s. perOp is the most requests an
// operation sends on average (a resolve may scan first).
func checkBudget(ts []*tenant, rate, perOp, planShare float64) error {
	worst, worstShare := (*tenant)(nil), 0.0
	for _, t := range ts {
		if t.limit == 0 {
			continue
		}
		perMinute := rate*perOp*t.share*60 + float64(t.setupRequests())
		if s := perMinute / float64(t.limit); s > worstShare {
			worst, worstShare = t, s
		}
	}
	if worst != nil && worstShare > planShare {
		most := (planShare*float64(worst.limit) - float64(worst.setupRequests())) / (perOp * worst.share * 60)
		return fmt.Errorf("-rate %g would send %s (%s, %d requests a minute) %.0f%% of its plan, above -plan-share %.0f%%: "+
			"at most -rate %.0f with these tenants, or more tenants, or larger plans",
			rate, worst.name, worst.plan, worst.limit, 100*worstShare, 100*planShare, math.Floor(most))
	}
	return nil
}

// pickTenant picks a tenant at random in proportion to its share; cum is
// the running sum of the shares.
func pickTenant(ts []*tenant, cum []float64, rng *rand.Rand) *tenant {
	i := sort.SearchFloat64s(cum, rng.Float64()*cum[len(cum)-1])
	return ts[min(i, len(ts)-1)]
}

func cumulativeShares(ts []*tenant) []float64 {
	cum := make([]float64, len(ts))
	sum := 0.0
	for i, t := range ts {
		sum += t.share
		cum[i] = sum
	}
	return cum
}

// createOrgs makes n organizations with the server binary's admin command
// (`orgs create`), on the server's own storage (env), a few at a time, and
// returns their tenants. Plans are given out in order of planNames.
func createOrgs(ctx context.Context, bin string, env []string, plans map[string]int, newAPI func(key string) *api) ([]*tenant, error) {
	var specs []string
	for _, p := range planNames {
		for range plans[p] {
			specs = append(specs, p)
		}
	}
	ts := make([]*tenant, len(specs))
	errs := make([]error, len(specs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, plan := range specs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("Soak tenant %03d", i+1)
			cmd := exec.CommandContext(ctx, bin, "orgs", "create", "--name", name, "--plan", plan, "--key-name", "soak")
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
				}
				errs[i] = fmt.Errorf("orgs create %q: %w", name, err)
				return
			}
			org, key, err := parseOrgLine(string(out))
			if err != nil {
				errs[i] = fmt.Errorf("orgs create %q: %w", name, err)
				return
			}
			ts[i] = newTenant(fmt.Sprintf("tenant %d", i+1), org, plan, newAPI(key))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ts, nil
}

// parseOrgLine reads `orgs create`'s output: "ORG_ID KEY" on one line.
func parseOrgLine(out string) (org, key string, err error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && strings.HasPrefix(f[0], "org_") && strings.HasPrefix(f[1], "sety_live_") {
			return f[0], f[1], nil
		}
	}
	return "", "", fmt.Errorf("no line \"org_... sety_live_...\" in %q", truncate([]byte(out), 200))
}

// setupRequests is how many requests setUpTenant sends: one endpoint, the
// access codes, the responders.
func (t *tenant) setupRequests() int { return 1 + len(tenantSites) + t.responders }

var tenantSites = []string{"main-gate", "north-court"}

// setUpTenant registers the tenant's webhook endpoint at url, issues its
// access codes and puts its responders on duty around Lagos (seeded by its
// index, so every run places them alike).
func setUpTenant(ctx context.Context, t *tenant, index int, url string) error {
	var err error
	if t.endpoint, err = registerEndpoint(ctx, t.api, url, "soak receiver"); err != nil {
		return err
	}
	if t.codes, err = issueCodes(ctx, t.api, tenantSites); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(index), 5244))
	for i := range t.responders {
		lat, lng := around(rng, 25)
		body := map[string]any{"name": fmt.Sprintf("Unit %02d", i+1), "phone": fmt.Sprintf("+23480%08d", 40000000+index*100+i),
			"location": []float64{round5(lng), round5(lat)}}
		if err := t.api.call(ctx, http.MethodPut, fmt.Sprintf("/responders/unit-%02d", i+1), body, http.StatusOK, nil); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return nil
}

// setUpTenants sets every tenant up, a few at a time.
func setUpTenants(ctx context.Context, ts []*tenant, url string) error {
	errs := make([]error, len(ts))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = setUpTenant(ctx, t, i, url)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// issueCodes issues one access code, valid for a day with any number of
// uses, at each site.
func issueCodes(ctx context.Context, a *api, sites []string) ([]accessCode, error) {
	var codes []accessCode
	for _, site := range sites {
		var out struct {
			Code string `json:"code"`
		}
		body := map[string]any{"site": site, "visitor": map[string]string{"name": "Tolu Bakare"},
			"host": map[string]string{"unit": "Block C, Flat 4"}, "purpose": "Delivery"}
		if err := a.call(ctx, http.MethodPost, "/access-codes", body, http.StatusCreated, &out); err != nil {
			return nil, err
		}
		codes = append(codes, accessCode{site: site, code: out.Code})
	}
	return codes, nil
}

// overPlan is a tenant that deliberately exceeds its plan: the soak sends
// it rate gets and counts its 429s apart from the workload's figures.
type overPlan struct {
	t    *tenant
	rate float64
}

// overPlanOp is the name its requests are recorded under.
const overPlanOp = "over-plan"

// sendOverPlan sends the over-plan tenant's requests at its rate until ctx
// ends or d passes, each on its own goroutine (they are quick: most are
// refused).
func sendOverPlan(ctx context.Context, o *overPlan, d time.Duration, win *window) {
	interval := time.Duration(float64(time.Second) / o.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.After(d)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end:
			return
		case at := <-tick.C:
			wg.Go(func() {
				start := time.Now()
				status, _, err := o.t.api.do(ctx, http.MethodGet, "/incidents?limit=5", nil)
				if ctx.Err() != nil {
					return
				}
				out := judge(status, err, http.StatusOK, false)
				if err == nil && status == http.StatusTooManyRequests {
					out = limited
				}
				win.request(overPlanOp, time.Since(start), out, status, start.Sub(at))
			})
		}
	}
}
