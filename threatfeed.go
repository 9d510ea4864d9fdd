package sety

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/internal/loop"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

// threatFollower keeps the threat engine current from the committed outbox.
// It follows the live incident events of every instance sharing the store,
// in commit order, from the checkpoint the engine was loaded at — so an
// incident committed anywhere counts everywhere within a poll, and a
// restart rebuilds the same engine from the store. It is also where
// incidents are translated into threat reports, so the threat package
// depends on no domain: a live incident counts from its creation and stops
// counting when it turns out to be no threat, by the one rule
// incident.CountsAsThreat.
type threatFollower struct {
	engine *threat.Engine
	log    outbox.Log
	wake   chan struct{}

	mu  sync.Mutex // one catch-up at a time; guards pos and ahead
	pos int64      // the position of the last event applied
	// ahead holds the changes the engine was loaded with whose events the
	// log placed after the load's checkpoint (threat.Checkpoint.Ahead):
	// each is skipped once, when the follower reaches it, so it counts
	// once. Empty but for a load that raced commits.
	ahead map[threat.Change]struct{}

	// created holds what this process's live creates mean for the
	// engine, by their incident.created event's id (see remember).
	created createdHere

	// watched: the log says when any instance positioned events
	// (outbox.Watcher). run's catch-ups then read what is positioned
	// without running the store's sequencer (see follow), and are woken
	// by the log, not by this process's commits.
	watched bool
	// sequenced is when a catch-up last had the store position what was
	// committed before it (guarded by mu).
	sequenced time.Time
	now       func() time.Time // time.Now; tests move it
}

// createdHere is what the follower was told in memory of the live
// incidents this process created, by their incident.created event's id:
// the follower applies such an event, when it reads it from the log, from
// here instead of decoding its payload (a create's largest cost in the
// feed), and reads the log without the payload (outbox.Filter.Envelopes). The log stays the truth: an event missing here (another
// instance's, or one read before it was remembered) is decoded as before.
type createdHere struct {
	mu   sync.Mutex
	gen  uint64 // advanced by each catch-up's start
	byID map[string]createdFacts
}

// createdFacts is what apply would decode from an incident.created event.
type createdFacts struct {
	counts bool // incident.CountsAsThreat
	report threat.Report
	gen    uint64 // createdHere.gen when remembered
}

// maxCreatedHere bounds what createdHere holds should the follower stop
// reading (a store outage): past it, events are decoded from the log.
const maxCreatedHere = 10_000

// followBatch is how many events one catch-up reads at most.
const followBatch = 500

// threatEvents are the live incident events that can change the threat
// picture (see apply): the feed reads no others. It reads them without
// their data first (most are this process's creates, remembered), then
// the data of those apply decodes (withData).
var threatEvents = outbox.Filter{Environment: string(auth.Live), Envelopes: true,
	Types: []string{incident.TypeCreated, incident.TypeCancelled, incident.TypeResolved}}

func newThreatFollower(engine *threat.Engine, log outbox.Log) *threatFollower {
	_, watched := log.(outbox.Watcher)
	return &threatFollower{engine: engine, log: log, wake: make(chan struct{}, 1), watched: watched, now: time.Now}
}

// load fills the engine from the store and sets where following starts.
func (f *threatFollower) load(ctx context.Context, src threat.Source) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	checkpoint, err := f.engine.Load(ctx, src)
	f.pos, f.ahead = checkpoint.Position, make(map[threat.Change]struct{}, len(checkpoint.Ahead))
	for _, c := range checkpoint.Ahead {
		f.ahead[c] = struct{}{}
	}
	return err
}

// catchUp applies the next events after the last one applied, every
// event committed before it was called included, and reports whether
// there may be more.
func (f *threatFollower) catchUp(ctx context.Context) (more bool, err error) {
	return f.catchUpTo(ctx, false)
}

// sequenceEvery is how often run's catch-ups on a watched log have the
// store position what was committed (catchUp), a safety net: the events
// of this process's commits are positioned by its webhook fan-out, which
// they wake, and every instance's sequencer runs wake every instance's
// feed (outbox.Watcher).
const sequenceEvery = time.Second

// follow is run's catch-up. On a watched log it reads only the events
// the store has positioned already (outbox.Filter.Through), which runs no
// sequencer, but once every sequenceEvery: with two instances on
// PostgreSQL, each feed's catch-up ran the store's sequencer, or waited
// for a run, as often as its fan-out did (bench/README.md, issue 24's
// "one sequencer's work").
func (f *threatFollower) follow(ctx context.Context) (more bool, err error) {
	f.mu.Lock()
	positioned := f.watched && f.now().Sub(f.sequenced) < sequenceEvery
	f.mu.Unlock()
	return f.catchUpTo(ctx, positioned)
}

// catchUpTo is catchUp, reading only what is positioned if positioned.
func (f *threatFollower) catchUpTo(ctx context.Context, positioned bool) (more bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	started := f.created.start()
	filter := threatEvents
	if positioned {
		filter.Through = math.MaxInt64
	} else {
		f.sequenced = f.now()
	}
	// Without changes loaded ahead (all but a load that raced commits),
	// an event is told apart by its id alone: this process's creates by
	// what is remembered, the rest read again with their data, subject
	// and sequence (withData). On PostgreSQL the read is then of the log
	// alone, no event's row: with two instances each feed read every
	// create of both so (bench/README.md, issue 24's "second server").
	filter.Bare = len(f.ahead) == 0
	events, next, err := f.log.EventsAfter(ctx, f.pos, filter, followBatch)
	if err != nil {
		return false, err
	}
	if err := f.withData(ctx, events); err != nil {
		return false, err
	}
	for _, ev := range events {
		f.apply(ev)
	}
	f.pos = next
	more = len(events) == followBatch
	if !more && !positioned {
		// Read to the head: every event remembered before this catch-up
		// was committed before it began, so it has been applied. (A read
		// of what is positioned may have stopped short of such events.)
		f.created.forget(started)
	}
	return more, nil
}

// withData reads the data of the events apply will decode (needsData),
// read without it: the briefs of creates by subject from a store that
// reads them so (briefs), and one more read of the log for the rest, of
// those events only (by position), when there are any (typically the
// last few creates of a page, committed here but not yet remembered, or
// another instance's); none when every event is a create remembered here.
func (f *threatFollower) withData(ctx context.Context, events []outbox.Event) error {
	var positions []int64
	for _, ev := range events {
		if f.needsData(ev) {
			positions = append(positions, ev.Position)
		}
	}
	positions, err := f.briefs(ctx, events, positions)
	if err != nil || len(positions) == 0 {
		return err
	}
	// They are in the log already: bounded by the last of them, the read
	// costs no run of the store's sequencer (with two instances, this
	// read came with every catch-up and doubled the runs). Only they are
	// read: with two instances, the creates of each are interleaved, and
	// a read from the first needed to the last read both instances'.
	// Of a create, what apply reads is fixed at the create: a brief of it
	// is enough (outbox.Filter.Brief), typed, with no JSON to decode.
	filter := threatEvents
	filter.Envelopes, filter.Brief, filter.Positions, filter.Through = false, true, positions, positions[len(positions)-1]
	full, _, err := f.log.EventsAfter(ctx, positions[0]-1, filter, len(positions))
	if err != nil {
		return err
	}
	// Both lists are in position order, full's a subset of positions.
	j := 0
	for i, ev := range events {
		for j < len(full) && full[j].Position < ev.Position {
			j++
		}
		if j < len(full) && full[j].Position == ev.Position {
			events[i] = full[j]
		}
	}
	return nil
}

// briefs gives the creates among events at positions (those needsData
// chose) their briefs from a store that reads them by subject
// (outbox.Briefer), and returns the positions still to read from the
// log: the other events, and creates without a subject or whose incident
// the store no longer holds. With two instances these creates are most
// of what each feed reads again, one of the other instance's for each of
// its creates; by subject, that is one probe of the incidents' key each
// and one statement, not a second read of the log.
func (f *threatFollower) briefs(ctx context.Context, events []outbox.Event, positions []int64) ([]int64, error) {
	briefer, ok := f.log.(outbox.Briefer)
	if !ok || len(positions) == 0 {
		return positions, nil
	}
	var (
		subjects []string
		at       []int   // the index in events of each subject's create
		rest     []int64 // the positions left to read from the log
	)
	// Both lists are in position order, positions a subset of events'.
	j := 0
	for i, ev := range events {
		if j == len(positions) {
			break
		}
		if ev.Position != positions[j] {
			continue
		}
		j++
		if ev.Type == incident.TypeCreated && ev.SubjectID != "" {
			subjects, at = append(subjects, ev.SubjectID), append(at, i)
		} else {
			rest = append(rest, ev.Position)
		}
	}
	if len(subjects) == 0 {
		return positions, nil
	}
	found, err := briefer.Briefs(ctx, subjects)
	if err != nil {
		return nil, err
	}
	briefs := make([]outbox.Brief, len(subjects))
	for k, i := range at {
		b, ok := found[subjects[k]]
		if !ok {
			rest = append(rest, events[i].Position)
			continue
		}
		briefs[k] = b
		events[i].Brief, events[i].Data = &briefs[k], nil
	}
	slices.Sort(rest)
	return rest, nil
}

// needsData reports whether apply decodes ev's data: an event that is
// not skipped as loaded already, not a create remembered here.
func (f *threatFollower) needsData(ev outbox.Event) bool {
	if _, loaded := f.ahead[threat.Change{Subject: ev.SubjectID, Sequence: ev.Sequence}]; loaded {
		return false
	}
	return ev.Type != incident.TypeCreated || !f.created.has(ev.ID)
}

// remember is the service's Observe hook: it keeps what a committed live
// create means for the engine, for apply to use when it reads the
// incident.created event. For a create, inc (as committed) and the event's
// snapshot agree on everything apply reads: category, severity, location,
// creation time, drill, and neither an outcome nor a cancel reason yet.
func (f *threatFollower) remember(inc *incident.Incident, events []outbox.Event) {
	for _, ev := range events {
		if ev.Type == incident.TypeCreated && ev.Environment == string(auth.Live) {
			f.created.put(ev.ID, createdFacts{counts: inc.CountsAsThreat(), report: threatReport(inc)})
		}
	}
}

func (c *createdHere) put(id string, facts createdFacts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[string]createdFacts{}
	}
	if len(c.byID) < maxCreatedHere {
		facts.gen = c.gen
		c.byID[id] = facts
	}
}

func (c *createdHere) has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.byID[id]
	return ok
}

func (c *createdHere) take(id string) (createdFacts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	facts, ok := c.byID[id]
	if ok {
		delete(c.byID, id)
	}
	return facts, ok
}

// start begins a catch-up: what is remembered from now on is newer.
func (c *createdHere) start() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	return c.gen - 1
}

// forget drops what was remembered before the catch-up that started at
// gen: left only when the log was read before it was remembered.
func (c *createdHere) forget(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, facts := range c.byID {
		if facts.gen <= gen {
			delete(c.byID, id)
		}
	}
}

// apply applies one event, unless the engine was loaded with its change
// already (idempotent per subject and sequence).
func (f *threatFollower) apply(ev outbox.Event) {
	if len(f.ahead) > 0 {
		change := threat.Change{Subject: ev.SubjectID, Sequence: ev.Sequence}
		if _, loaded := f.ahead[change]; loaded {
			delete(f.ahead, change)
			return
		}
	}
	if ev.Type != incident.TypeCreated && ev.Type != incident.TypeCancelled && ev.Type != incident.TypeResolved {
		return // no other change alters the threat picture: skip the decode
	}
	if ev.Type == incident.TypeCreated {
		if facts, ok := f.created.take(ev.ID); ok {
			if facts.counts {
				f.engine.Add(facts.report)
			}
			return
		}
	}
	inc, ok := briefIncident(ev)
	if !ok {
		inc, ok = decodeIncident(ev)
	}
	if !ok {
		return
	}
	switch ev.Type {
	case incident.TypeCreated:
		if inc.CountsAsThreat() {
			f.engine.Add(threatReport(inc))
		}
	case incident.TypeCancelled, incident.TypeResolved:
		// It counted from its creation if it was live and no drill; the
		// outcome may now say it was no threat after all.
		if !inc.IsDrill && !inc.CountsAsThreat() {
			f.engine.Remove(threatReport(inc))
		}
	}
}

// followGap is the least time between two catch-ups. Under load, a
// catch-up per commit was a tenth of the CPU of create-incident (a query
// and a decode per event); with the gap, one catch-up reads what the
// commits of the gap wrote.
const followGap = 50 * time.Millisecond

// run follows the outbox until ctx ends, at most once per followGap: when
// this process commits events (Notify), or, on a watched log, when any
// instance's sequencer has positioned events (moved); and every second.
func (f *threatFollower) run(ctx context.Context, log *slog.Logger) {
	loop.Run(ctx, loop.Loop{Name: "threat intelligence feed", Every: time.Second, Wake: f.wake, MinGap: followGap, Log: log}, f.follow)
}

// Notify wakes the follower: this process committed events. On a watched
// log it does not: what the follower reads is what the store has
// positioned, and the log wakes it when that moves (moved).
func (f *threatFollower) Notify(context.Context, []outbox.Event) {
	if !f.watched {
		f.moved()
	}
}

// moved wakes the follower: the log's head may have moved.
func (f *threatFollower) moved() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// decodeIncident reads, of the incident snapshot of an incident event, the
// fields threat intelligence uses: its report and incident.CountsAsThreat's
// inputs. Decoding only these (the timeline, subject and metadata are
// skipped) halves the feed's decode, which runs for every create. The
// environment is not in the payload: the event carries it.
func decodeIncident(ev outbox.Event) (*incident.Incident, bool) {
	var data struct {
		Incident *struct {
			Category incident.Category `json:"category"`
			Severity incident.Severity `json:"severity"`
			Location struct {
				Coordinates geo.Point `json:"coordinates"`
			} `json:"location"`
			ResolutionOutcome *incident.Outcome      `json:"resolution_outcome"`
			IsDrill           bool                   `json:"is_drill"`
			CreatedAt         clock.Time             `json:"created_at"`
			CancelReasonCode  *incident.CancelReason `json:"cancel_reason_code"`
		} `json:"incident"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil || data.Incident == nil {
		return nil, false
	}
	d := data.Incident
	return &incident.Incident{OrgID: ev.OrgID, Environment: auth.Environment(ev.Environment),
		Category: d.Category, Severity: d.Severity, Location: incident.IncidentLocation{Coordinates: d.Location.Coordinates},
		ResolutionOutcome: d.ResolutionOutcome, IsDrill: d.IsDrill, CreatedAt: d.CreatedAt, CancelReasonCode: d.CancelReasonCode}, true
}

// briefIncident is decodeIncident for a create read with its brief
// (outbox.Filter.Brief): at a create there is neither an outcome nor a
// cancel reason yet.
func briefIncident(ev outbox.Event) (*incident.Incident, bool) {
	b := ev.Brief
	if b == nil || ev.Type != incident.TypeCreated {
		return nil, false
	}
	return &incident.Incident{OrgID: ev.OrgID, Environment: auth.Environment(ev.Environment),
		Category: incident.Category(b.Category), Severity: incident.Severity(b.Severity),
		Location: incident.IncidentLocation{Coordinates: b.Location}, IsDrill: b.IsDrill, CreatedAt: clock.At(b.CreatedAt)}, true
}

// threatReport is what the threat engine keeps of an incident.
func threatReport(inc *incident.Incident) threat.Report {
	return threat.Report{
		At:       inc.CreatedAt.Time,
		Location: inc.Location.Coordinates,
		Category: threat.Category(inc.Category),
		Severity: threat.Severity(inc.Severity),
	}
}

// observeBoth is an incident.Config.Observe hook that calls first, then
// second when set.
func observeBoth(first, second func(*incident.Incident, []outbox.Event)) func(*incident.Incident, []outbox.Event) {
	if second == nil {
		return first
	}
	return func(inc *incident.Incident, events []outbox.Event) {
		first(inc, events)
		second(inc, events)
	}
}
