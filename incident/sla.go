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
	if r := i.Responder; r != nil {
		c.assigned = true
		c.assignMissed = r.AssignedAt.After(i.SLA.AssignBy.Time)
		if !r.ArrivedAt.IsZero() {
			c.arrived = true
			c.arriveMissed = r.ArrivedAt.After(i.SLA.ArriveBy.Time)
		}
	}
	if !c.assigned {
		c.assignMissed = end.After(i.SLA.AssignBy.Time)
	}
	if !c.arrived {
		c.arriveMissed = end.After(i.SLA.ArriveBy.Time)
	}
	return c
}

// refreshSLA brings the shown SLA figures up to date at now.
func (i *Incident) refreshSLA(now time.Time) {
	s := i.SLA
	if s == nil {
		return
	}
	c := i.readSLA(now)
	created := i.CreatedAt.Time
	s.TimeToAssignSeconds, s.TimeToArriveSeconds = nil, nil
	if c.assigned {
		s.TimeToAssignSeconds = seconds(i.Responder.AssignedAt.Sub(created))
	}
	if c.arrived {
		s.TimeToArriveSeconds = seconds(i.Responder.ArrivedAt.Sub(created))
	}
	switch {
	case c.assignMissed || c.arriveMissed || i.Tracking.AssignBreached || i.Tracking.ArriveBreached:
		s.State = SLABreached
	case c.arrived:
		s.State = SLAMet
	case !i.Status.Active():
		s.State = SLAOnTrack // stopped before any target was due: nothing was missed
	default:
		target, by := s.ArriveTargetSeconds, s.ArriveBy.Time
		if !c.assigned {
			target, by = s.AssignTargetSeconds, s.AssignBy.Time
		}
		left := by.Sub(i.clockEnd(now))
		if target > 0 && left <= time.Duration(float64(target)*(1-atRiskShare)*float64(time.Second)) {
			s.State = SLAAtRisk
		} else {
			s.State = SLAOnTrack
		}
	}
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

// nextSLADeadline is the next moment a breach could need recording, or zero.
func (i *Incident) nextSLADeadline() time.Time {
	if i.SLA == nil || !i.Status.Active() {
		return time.Time{}
	}
	var next time.Time
	if i.Responder == nil && !i.Tracking.AssignBreached {
		next = i.SLA.AssignBy.Time
	}
	if (i.Responder == nil || i.Responder.ArrivedAt.IsZero()) && !i.Tracking.ArriveBreached {
		next = earliest(next, i.SLA.ArriveBy.Time)
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

func seconds(d time.Duration) *float64 {
	v := math.Round(d.Seconds()*1000) / 1000
	return &v
}
