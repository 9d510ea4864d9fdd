package incident

import (
	"fmt"
	"math"
	"time"

	"github.com/sety-io/sety/clock"
)

// SLATarget is how long a severity allows until a responder is assigned and
// until one arrives, both counted from the incident's creation.
type SLATarget struct {
	Assign time.Duration
	Arrive time.Duration
}

// SLAPolicy maps each severity to its targets.
type SLAPolicy map[Severity]SLATarget

// DefaultSLAPolicy is the contract's default: critical 60 s / 8 min, high
// 90 s / 10 min, medium 3 / 15 min, low 5 / 30 min.
func DefaultSLAPolicy() SLAPolicy {
	return SLAPolicy{
		Critical: {60 * time.Second, 8 * time.Minute},
		High:     {90 * time.Second, 10 * time.Minute},
		Medium:   {3 * time.Minute, 15 * time.Minute},
		Low:      {5 * time.Minute, 30 * time.Minute},
	}
}

// Validate reports a policy that misses a severity or has a target that is
// not positive, or an arrival target shorter than the assignment target.
func (p SLAPolicy) Validate() error {
	for _, sev := range Severities {
		t, ok := p[sev]
		if !ok {
			return fmt.Errorf("SLA policy has no targets for severity %s", sev)
		}
		if t.Assign <= 0 || t.Arrive < t.Assign {
			return fmt.Errorf("SLA targets for %s must be positive with arrive ≥ assign, not %v/%v", sev, t.Assign, t.Arrive)
		}
	}
	return nil
}

// SLAState is where an incident stands against its SLA targets.
type SLAState string

// The SLA states.
const (
	SLAOnTrack  SLAState = "on_track"
	SLAAtRisk   SLAState = "at_risk"
	SLABreached SLAState = "breached"
	SLAMet      SLAState = "met"
)

// SLAStates lists every SLA state.
var SLAStates = []SLAState{SLAOnTrack, SLAAtRisk, SLABreached, SLAMet}

// atRiskShare is how much of a running target may pass before it is at risk.
const atRiskShare = 0.8

// newSLA starts the clocks of an incident created at created.
func newSLA(created time.Time, t SLATarget) *SLA {
	return &SLA{
		AssignTargetSeconds: int(t.Assign / time.Second),
		ArriveTargetSeconds: int(t.Arrive / time.Second),
		AssignBy:            clock.At(created.Add(t.Assign)),
		ArriveBy:            clock.At(created.Add(t.Arrive)),
		State:               SLAOnTrack,
	}
}

// slaClock reads an incident's clocks at a moment. It is derived from stored
// times only, so it gives the same answer in any process, after any restart.
type slaClock struct {
	assignMissed, arriveMissed bool
	assigned, arrived          bool
}

// end is the moment the incident's clocks stop: now while it is active, the
// time it ended otherwise.
func (i *Incident) clockEnd(now time.Time) time.Time {
	switch {
	case !i.ResolvedAt.IsZero():
		return i.ResolvedAt.Time
	case !i.CancelledAt.IsZero():
		return i.CancelledAt.Time
	}
	return now
}

func (i *Incident) readSLA(now time.Time) slaClock {
	var c slaClock
	if i.SLA == nil {
		return c
	}
	end := i.clockEnd(now)
	if at := i.AssignedAt(); !at.IsZero() {
		c.assigned = true
		c.assignMissed = at.After(i.SLA.AssignBy.Time)
	} else {
		c.assignMissed = end.After(i.SLA.AssignBy.Time)
	}
	if at := i.ArrivedAt(); !at.IsZero() {
		c.arrived = true
		c.arriveMissed = at.After(i.SLA.ArriveBy.Time)
	} else {
		c.arriveMissed = end.After(i.SLA.ArriveBy.Time)
	}
	return c
}

// refreshSLA brings the shown SLA figures up to date at now.
func (i *Incident) refreshSLA(now time.Time) {
	if s, ok := i.slaAt(now); ok {
		*i.SLA = s
	}
}

// slaAt is i's SLA with the figures shown at now, leaving i as it is; false
// if i has no SLA. A figure that is the one i shows already keeps i's
// pointer to it (an answer needs no allocation when nothing moved).
func (i *Incident) slaAt(now time.Time) (SLA, bool) {
	if i.SLA == nil {
		return SLA{}, false
	}
	s := *i.SLA
	c := i.readSLA(now)
	created := i.CreatedAt.Time
	s.TimeToAssignSeconds, s.TimeToArriveSeconds = nil, nil
	if c.assigned {
		s.TimeToAssignSeconds = sameOrSeconds(i.SLA.TimeToAssignSeconds, i.AssignedAt().Sub(created))
	}
	if c.arrived {
		s.TimeToArriveSeconds = sameOrSeconds(i.SLA.TimeToArriveSeconds, i.ArrivedAt().Sub(created))
	}
	switch {
	case c.assignMissed || c.arriveMissed || i.Tracking.AssignBreached || i.Tracking.ArriveBreached:
		s.State = SLABreached
	case c.arrived:
		s.State = SLAMet
	case !i.Status.Active():
		s.State = SLAOnTrack // stopped before any target was due: nothing was missed
	case i.riskAt(now) != noTarget:
		s.State = SLAAtRisk
	default:
		s.State = SLAOnTrack
	}
	return s, true
}

// slaTarget names one of an incident's two SLA targets.
type slaTarget int

const (
	noTarget slaTarget = iota
	assignTarget
	arriveTarget
)

// nobodyInRangeShare is how much of the assignment target may pass, with
// no responder available in range, before the incident is at risk: with
// nobody to send, the 80 % mark would warn too late to find someone.
const nobodyInRangeShare = 0.5

// riskAt returns the running target that is at risk at now, or noTarget.
// The assignment target is at risk past 80 % of it, or past half of it
// while nobody is available in range; the arrival target past 80 % of it,
// or at once when the assigned responder's ETA lands after arrive_by. A
// missed target is breached, not at risk.
func (i *Incident) riskAt(now time.Time) slaTarget {
	s := i.SLA
	if s == nil || !i.Status.Active() {
		return noTarget
	}
	c := i.readSLA(now)
	if c.assignMissed || c.arriveMissed || c.arrived || i.Tracking.AssignBreached || i.Tracking.ArriveBreached {
		return noTarget
	}
	if !c.assigned {
		if !now.Before(i.riskFrom(assignTarget)) {
			return assignTarget
		}
		return noTarget
	}
	if !now.Before(i.riskFrom(arriveTarget)) {
		return arriveTarget
	}
	if r := i.Responder; r != nil && r.ArrivedAt.IsZero() {
		eta := r.AssignedAt.Add(time.Duration(r.ETASeconds * float64(time.Second)))
		if eta.After(s.ArriveBy.Time) {
			return arriveTarget
		}
	}
	return noTarget
}

// riskFrom is the moment the clock alone puts target at risk: 80 % of it
// gone, or for the assignment with nobody in range, half of it.
func (i *Incident) riskFrom(target slaTarget) time.Time {
	s := i.SLA
	secs, by, share := s.ArriveTargetSeconds, s.ArriveBy.Time, atRiskShare
	if target == assignTarget {
		secs, by = s.AssignTargetSeconds, s.AssignBy.Time
		if i.Tracking.NoneInRange {
			share = nobodyInRangeShare
		}
	}
	return by.Add(-time.Duration(float64(secs) * (1 - share) * float64(time.Second)))
}

// recordRisk marks the target at risk at now, if it was not marked yet,
// and reports whether it did: the incident.sla_at_risk event is sent once
// per target, across restarts and processes.
func (i *Incident) recordRisk(now time.Time) bool {
	switch i.riskAt(now) {
	case assignTarget:
		if !i.Tracking.AssignAtRisk {
			i.Tracking.AssignAtRisk = true
			return true
		}
	case arriveTarget:
		if !i.Tracking.ArriveAtRisk {
			i.Tracking.ArriveAtRisk = true
			return true
		}
	}
	return false
}

// recordBreaches appends an sla_breached timeline entry for each target
// missed by now and not yet recorded, and returns how many it recorded. The
// flags in Tracking make it once per target, across restarts and processes.
func (i *Incident) recordBreaches(now time.Time) []string {
	if i.SLA == nil {
		return nil
	}
	c := i.readSLA(now)
	var recorded []string
	at := clock.At(now)
	if c.assignMissed && !i.Tracking.AssignBreached {
		i.Tracking.AssignBreached = true
		msg := fmt.Sprintf("Assignment target of %d s missed", i.SLA.AssignTargetSeconds)
		i.Timeline = append(i.Timeline, IncidentTimelineEvent{Status: i.Status, Event: EventSLABreached, Message: msg, Timestamp: at})
		recorded = append(recorded, msg)
	}
	if c.arriveMissed && !i.Tracking.ArriveBreached {
		i.Tracking.ArriveBreached = true
		msg := fmt.Sprintf("Arrival target of %d s missed", i.SLA.ArriveTargetSeconds)
		i.Timeline = append(i.Timeline, IncidentTimelineEvent{Status: i.Status, Event: EventSLABreached, Message: msg, Timestamp: at})
		recorded = append(recorded, msg)
	}
	return recorded
}

// nextSLADeadline is the next moment a breach, or a target's entry into
// at_risk, could need recording, or zero.
func (i *Incident) nextSLADeadline() time.Time {
	if i.SLA == nil || !i.Status.Active() {
		return time.Time{}
	}
	var next time.Time
	assigned, arrived := !i.AssignedAt().IsZero(), !i.ArrivedAt().IsZero()
	if !assigned && !i.Tracking.AssignBreached {
		next = i.SLA.AssignBy.Time
		if !i.Tracking.AssignAtRisk {
			next = earliest(next, i.riskFrom(assignTarget))
		}
	}
	if !arrived && !i.Tracking.ArriveBreached {
		next = earliest(next, i.SLA.ArriveBy.Time)
		if assigned && !i.Tracking.ArriveAtRisk {
			next = earliest(next, i.riskFrom(arriveTarget))
		}
	}
	return next
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// sameOrSeconds is d in seconds, rounded to the millisecond: shown itself
// if it shows that figure already, else a new value.
func sameOrSeconds(shown *float64, d time.Duration) *float64 {
	if v := math.Round(d.Seconds()*1000) / 1000; shown == nil || *shown != v {
		return &v
	}
	return shown
}
