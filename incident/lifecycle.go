package incident

import "github.com/sety-io/sety/setyerr"

// stage is a status's place in the lifecycle; transitions only go up.
var stage = map[Status]int{Created: 0, Dispatching: 1, Assigned: 2, Responding: 3, OnScene: 4, Resolved: 5, Cancelled: 5}

// checkTransition reports whether an incident may move from one status to
// another: forward only (skipping ahead is allowed), cancelled only from an
// active status, and nothing ever leaves resolved or cancelled.
func checkTransition(from, to Status) error {
	if !from.Active() {
		return setyerr.E(setyerr.Conflict, "incident is %s and can no longer change", from)
	}
	if to == Cancelled || stage[to] > stage[from] {
		return nil
	}
	return setyerr.E(setyerr.Conflict, "incident is %s and cannot move back to %s", from, to)
}

// EventName names what happened in a timeline entry.
type EventName string

// The timeline's event names; a lifecycle event has an outbox type of the
// same name ("incident." + name).
const (
	EventCreated     EventName = "created"
	EventDispatching EventName = "dispatching"
	EventAssigned    EventName = "assigned"
	EventResponding  EventName = "responding"
	EventOnScene     EventName = "on_scene"
	EventResolved    EventName = "resolved"
	EventCancelled   EventName = "cancelled"
	EventNoteAdded   EventName = "note_added"
	EventSLABreached EventName = "sla_breached"
)

// EventNames lists every timeline event name.
var EventNames = []EventName{EventCreated, EventDispatching, EventAssigned, EventResponding, EventOnScene,
	EventResolved, EventCancelled, EventNoteAdded, EventSLABreached}

// Outbox event types of the lifecycle.
const (
	TypeDispatching = "incident.dispatching"
	TypeAssigned    = "incident.assigned"
	TypeResponding  = "incident.responding"
	TypeOnScene     = "incident.on_scene"
	TypeResolved    = "incident.resolved"
	TypeSLABreached = "incident.sla_breached"
	// TypeSLAAtRisk is sent once per target when it becomes at risk (see
	// SLA.State); it adds no timeline entry.
	TypeSLAAtRisk = "incident.sla_at_risk"
)

// eventType is the outbox type of a timeline event.
func eventType(event EventName) string { return "incident." + string(event) }
