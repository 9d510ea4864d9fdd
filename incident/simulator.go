package incident

import (
	"math"
	"time"

	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
)

// Simulation is how the sandbox walks drills through the lifecycle so
// integrations can be tested end to end, webhooks included. Drills never
// reach the real pool; live incidents never reach the simulator.
type Simulation struct {
	// Steps are the statuses a drill reaches and when, after creation.
	// Default: dispatching +2 s, assigned +5 s, responding +10 s,
	// on_scene +30 s, resolved (handled) +60 s.
	Steps []SimulationStep
	// Speed divides every delay: 100 runs a drill in 0.6 s. Default 1.
	Speed float64
}

// SimulationStep is one status of a simulated drill and its delay.
type SimulationStep struct {
	Status Status
	After  time.Duration
}

// DefaultSimulationSteps are the contract's sandbox timings.
func DefaultSimulationSteps() []SimulationStep {
	return []SimulationStep{
		{Dispatching, 2 * time.Second},
		{Assigned, 5 * time.Second},
		{Responding, 10 * time.Second},
		{OnScene, 30 * time.Second},
		{Resolved, 60 * time.Second},
	}
}

func (sim Simulation) withDefaults() Simulation {
	if len(sim.Steps) == 0 {
		sim.Steps = DefaultSimulationSteps()
	}
	if sim.Speed <= 0 || math.IsNaN(sim.Speed) || math.IsInf(sim.Speed, 0) {
		sim.Speed = 1
	}
	return sim
}

// stepAt is when a drill created at created reaches step.
func (sim Simulation) stepAt(created time.Time, step SimulationStep) time.Time {
	return created.Add(time.Duration(float64(step.After) / sim.Speed))
}

// nextStepAt is when the drill's next simulated status is due; zero if none.
func (sim Simulation) nextStepAt(inc *Incident) time.Time {
	for _, st := range sim.Steps {
		if stage[st.Status] > stage[inc.Status] {
			return sim.stepAt(inc.CreatedAt.Time, st)
		}
	}
	return time.Time{}
}

// sandboxSpeed is how fast the simulated responder drives, for its ETA.
const sandboxSpeed = 30 / 3.6 // m/s

// step applies every simulated status that is due by t.now, in order, each
// with its own timeline entry and event: after a restart a drill catches up
// step by step instead of jumping.
func (sim Simulation) step(inc *Incident, t *txn) error {
	for _, st := range sim.Steps {
		if stage[st.Status] <= stage[inc.Status] {
			continue
		}
		if sim.stepAt(inc.CreatedAt.Time, st).After(t.now) {
			return nil
		}
		if err := sim.apply(inc, t, st.Status); err != nil {
			return err
		}
	}
	return nil
}

func (sim Simulation) apply(inc *Incident, t *txn, to Status) error {
	now := clock.At(t.now)
	switch to {
	case Dispatching:
		return t.transition(inc, to, EventDispatching, "Sandbox: finding a simulated responder")
	case Assigned:
		inc.Responder = sandboxResponder(inc, now)
		return t.transition(inc, to, EventAssigned, "Sandbox: "+assignedMessage(*inc.Responder))
	case Responding:
		return t.transition(inc, to, EventResponding, "Sandbox: responder en route")
	case OnScene:
		if inc.Responder == nil {
			inc.Responder = sandboxResponder(inc, now)
		}
		inc.Responder.ArrivedAt = now
		return t.transition(inc, to, EventOnScene, "Sandbox: responder on scene")
	case Resolved:
		outcome, notes := Handled, "Sandbox drill completed"
		inc.ResolutionOutcome, inc.ResolutionNotes = &outcome, &notes
		return t.transition(inc, to, EventResolved, "Sandbox: incident resolved")
	}
	return nil
}

// sandboxResponder is the simulated responder of a drill: one kilometre
// north of the incident, with an id derived from the incident's that says
// what it is ("rsp_sandbox" and the incident id's last nine characters).
func sandboxResponder(inc *Incident, at clock.Time) *ResponderAssignment {
	loc := geo.NewPoint(math.Min(90, inc.Location.Coordinates.Lat()+1000/111195.0), inc.Location.Coordinates.Lng())
	d := geo.Distance(loc, inc.Location.Coordinates)
	return &ResponderAssignment{
		ResponderID:    "rsp_sandbox" + inc.ID[len(inc.ID)-9:],
		Name:           "Sandbox Responder",
		Location:       loc,
		DistanceMeters: math.Round(d),
		ETASeconds:     math.Round(d / sandboxSpeed),
		AssignedAt:     at,
	}
}
