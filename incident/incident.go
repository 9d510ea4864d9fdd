package incident

import (
	"maps"
	"slices"

	"time"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/clock"
	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/clone"
)

// Category is what kind of emergency an incident is.
type Category string

// The categories of the public docs.
const (
	SOS            Category = "sos"             // panic button, personal danger
	Vehicle        Category = "vehicle"         // hijack, road robbery, accident
	LocationThreat Category = "location_threat" // robbery or violence at a place
	Medical        Category = "medical"         // injury or health emergency
)

// Categories lists every category.
var Categories = []Category{SOS, Vehicle, LocationThreat, Medical}

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// DefaultSeverity is the severity an incident of this category gets when the
// caller names none: a person in danger is high, a threat at a place medium.
func (c Category) DefaultSeverity() Severity {
	if c == LocationThreat {
		return Medium
	}
	return High
}

// DefaultTitle is the title an incident gets when the caller sends none.
func (c Category) DefaultTitle() string {
	switch c {
	case SOS:
		return "SOS alert"
	case Vehicle:
		return "Vehicle emergency"
	case LocationThreat:
		return "Location threat"
	default:
		return "Medical emergency"
	}
}

// Severity is how urgent an incident is.
type Severity string

// Severities, least urgent first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists every severity, least urgent first.
var Severities = []Severity{Low, Medium, High, Critical}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// Status is where an incident is in its lifecycle.
type Status string

// The lifecycle: created → dispatching → assigned → responding → on_scene →
// resolved, or cancelled from any active status.
const (
	Created     Status = "created"
	Dispatching Status = "dispatching"
	Assigned    Status = "assigned"
	Responding  Status = "responding"
	OnScene     Status = "on_scene"
	Resolved    Status = "resolved"
	Cancelled   Status = "cancelled"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{Created, Dispatching, Assigned, Responding, OnScene, Resolved, Cancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Active reports whether an incident in status s can still change: every
// status before resolved. Only active incidents can be cancelled.
func (s Status) Active() bool { return s.Valid() && s != Resolved && s != Cancelled }

// Outcome is how a resolved incident ended.
type Outcome string

// The outcomes; handled is the one the public docs show.
const (
	Handled        Outcome = "handled"
	FalseAlarm     Outcome = "false_alarm"
	Referred       Outcome = "referred"
	UnableToLocate Outcome = "unable_to_locate"
	OtherOutcome   Outcome = "other"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{Handled, FalseAlarm, Referred, UnableToLocate, OtherOutcome}

// CancelReason says, in a structured way, why an incident was cancelled.
type CancelReason string

// The cancel reasons. Threat intelligence leaves out incidents cancelled as
// a false alarm or a duplicate.
const (
	CancelFalseAlarm        CancelReason = "false_alarm"
	CancelDuplicate         CancelReason = "duplicate"
	CancelResolvedElsewhere CancelReason = "resolved_elsewhere"
	CancelOther             CancelReason = "other"
)

// CancelReasons lists every cancel reason.
var CancelReasons = []CancelReason{CancelFalseAlarm, CancelDuplicate, CancelResolvedElsewhere, CancelOther}

// Incident is an emergency reported for one of the caller's users.
// The JSON form is the Incident object of the Sety API.
type Incident struct {
	ID                string                  `json:"incident_id" example:"inc_k7m2p9x4q1w8z3r5" doc:"The incident id: inc_ and 16 lowercase letters or digits."`
	IdempotencyKey    *string                 `json:"idempotency_key" example:"trip_7f3k92lq" doc:"The idempotency_key it was created with; null when none was sent."`
	Category          Category                `json:"category" doc:"What kind of emergency: sos (personal danger), vehicle (hijack, robbery, accident), location_threat (a threat at a place) or medical."`
	Severity          Severity                `json:"severity" doc:"How urgent, low to critical; sets the SLA targets and the dispatch order."`
	Status            Status                  `json:"status" doc:"Where the incident is in its lifecycle: created, dispatching, assigned, responding, on_scene, then resolved; or cancelled from any of the first five."`
	Subject           Subject                 `json:"subject" doc:"The person in danger, as you described them."`
	Title             string                  `json:"title" example:"Vehicle emergency reported by rider" doc:"A short title; the category's default (e.g. \"SOS alert\") when none was sent."`
	Description       *string                 `json:"description" example:"Rider pressed the panic button twice; driver not answering." doc:"Free text sent at creation; null when none was sent."`
	Location          IncidentLocation        `json:"location" doc:"Where the incident is."`
	ResolutionOutcome *Outcome                `json:"resolution_outcome" nullable:"true" doc:"How the incident ended; null until it is resolved."`
	ResolutionNotes   *string                 `json:"resolution_notes" example:"Rider met by the responder and taken home." doc:"Notes recorded at resolution; null when there are none."`
	IsDrill           bool                    `json:"is_drill" doc:"True for sandbox (test key) incidents and drills: never sent to real responders."`
	Timeline          []IncidentTimelineEvent `json:"timeline" nullable:"false" doc:"Everything that happened, oldest first."`
	SLA               *SLA                    `json:"sla" nullable:"false" doc:"Dispatch clocks, started at creation."`
	Responder         *ResponderAssignment    `json:"responder" doc:"The assigned responder; null until one is assigned."`
	CreatedAt         clock.Time              `json:"created_at" doc:"When the incident was reported."`
	UpdatedAt         clock.Time              `json:"updated_at" doc:"When the incident last changed."`
	ResolvedAt        clock.Time              `json:"resolved_at" nullable:"true" doc:"When it was resolved; null otherwise."`
	CancelledAt       clock.Time              `json:"cancelled_at" nullable:"true" doc:"When it was cancelled; null otherwise."`
	CancelReasonCode  *CancelReason           `json:"cancel_reason_code" nullable:"true" doc:"The reason_code the incident was cancelled with; null otherwise."`
	Sequence          int64                   `json:"sequence" example:"2" doc:"The sequence of the incident's latest event: orders this state against webhook and stream events (higher is newer)."`

	OrgID       string           `json:"-"`
	Environment auth.Environment `json:"-"`
	Tracking    Tracking         `json:"-"`
}

// Tracking is the engine's private state of an incident: stored with it,
// never shown. Keeping it in the store (not in timers) is what lets a
// restarted process carry on exactly where the last one stopped.
type Tracking struct {
	AssignBreached bool      `json:"assign_breached,omitempty"` // the assignment breach is recorded
	ArriveBreached bool      `json:"arrive_breached,omitempty"` // the arrival breach is recorded
	AssignAtRisk   bool      `json:"assign_at_risk,omitempty"`  // the assignment target's at-risk event is recorded
	ArriveAtRisk   bool      `json:"arrive_at_risk,omitempty"`  // the arrival target's at-risk event is recorded
	NoneInRange    bool      `json:"none_in_range,omitempty"`   // queued: no responder was available within range
	Simulated      bool      `json:"simulated,omitempty"`       // a drill walked by the sandbox simulator
	DueAt          time.Time `json:"due_at,omitzero"`           // when the engine must next look at it; zero: never
	// A reassignment replaces Responder; the SLA clocks keep counting
	// from the first assignment and the first arrival, kept here then.
	FirstAssignedAt time.Time `json:"first_assigned_at,omitzero"`
	FirstArrivedAt  time.Time `json:"first_arrived_at,omitzero"`
}

// AssignedAt is when the incident first got a responder (a reassignment
// does not restart the SLA's clock); zero while it has none.
func (i *Incident) AssignedAt() time.Time {
	if !i.Tracking.FirstAssignedAt.IsZero() {
		return i.Tracking.FirstAssignedAt
	}
	if i.Responder != nil {
		return i.Responder.AssignedAt.Time
	}
	return time.Time{}
}

// ArrivedAt is when a responder first reached the incident; zero until one
// has.
func (i *Incident) ArrivedAt() time.Time {
	if !i.Tracking.FirstArrivedAt.IsZero() {
		return i.Tracking.FirstArrivedAt
	}
	if i.Responder != nil {
		return i.Responder.ArrivedAt.Time
	}
	return time.Time{}
}

// Tenant returns the tenant that owns the incident.
func (i *Incident) Tenant() auth.Tenant { return auth.Tenant{OrgID: i.OrgID, Env: i.Environment} }

// CountsAsThreat reports whether the incident belongs in threat
// intelligence: a live incident, not a drill, neither a false alarm nor a
// duplicate of another (which would count one danger twice). It is the
// one statement of the rule: adapters store its answer beside the incident
// (for the engine's start-up load), and the facade's event feed applies it
// to committed events.
func (i *Incident) CountsAsThreat() bool {
	if i.Environment != auth.Live || i.IsDrill {
		return false
	}
	if i.ResolutionOutcome != nil && *i.ResolutionOutcome == FalseAlarm {
		return false
	}
	return i.CancelReasonCode == nil || *i.CancelReasonCode != CancelFalseAlarm && *i.CancelReasonCode != CancelDuplicate
}

// Subject is the person in danger. They need no Sety account.
type Subject struct {
	Name      *string           `json:"name" required:"false" maxLength:"200" example:"Chidinma Eze" doc:"Full name."`
	Phone     *string           `json:"phone" required:"false" maxLength:"16" example:"+2348031234567" doc:"Phone number in E.164 form, e.g. +2348031234567."`
	Email     *string           `json:"email" required:"false" maxLength:"254" example:"chidinma.eze@example.com" doc:"Email address."`
	Reference *string           `json:"reference" required:"false" maxLength:"255" example:"RIDER-30417" doc:"Your own id for the person or trip."`
	Metadata  map[string]string `json:"metadata" required:"false" nullable:"false" example:"{\"vehicle_plate\":\"LND-442-KJ\",\"driver_name\":\"Musa Bello\"}" doc:"Flat string map: at most 50 keys of at most 40 characters, values of at most 500."`
}

// IncidentLocation is where the incident is.
type IncidentLocation struct {
	Coordinates geo.Point `json:"coordinates" nullable:"false" doc:"[longitude, latitude] in degrees (GeoJSON order)." example:"[3.4219,6.4281]"`
	Address     *string   `json:"address" example:"22 Adeola Odeku Street, Victoria Island, Lagos" doc:"Street address, as sent; null when none was."`
	Landmark    *string   `json:"landmark" example:"Opposite the filling station" doc:"A landmark that helps the responder find the place; null when none was sent."`
}

// Timeline event names.

// IncidentTimelineEvent is one entry of an incident's timeline.
type IncidentTimelineEvent struct {
	Status    Status     `json:"status" doc:"The incident's status after this event."`
	Event     EventName  `json:"event" doc:"What happened: a status change (assigned also for a reassignment, which keeps the status), note_added or sla_breached."`
	Message   string     `json:"message" example:"Incident received" doc:"What happened, in words: a cancel reason, a note, who was assigned."`
	Timestamp clock.Time `json:"timestamp" doc:"When it happened."`
}

// SLA holds an incident's dispatch clocks.
type SLA struct {
	AssignTargetSeconds int        `json:"assign_target_seconds" example:"90" doc:"Target time from creation to a responder being assigned, for the incident's severity."`
	ArriveTargetSeconds int        `json:"arrive_target_seconds" example:"600" doc:"Target time from creation to the responder's arrival."`
	AssignBy            clock.Time `json:"assign_by" doc:"Creation plus the assignment target."`
	ArriveBy            clock.Time `json:"arrive_by" doc:"Creation plus the arrival target."`
	TimeToAssignSeconds *float64   `json:"time_to_assign_seconds" example:"42.5" doc:"Seconds from creation to the first assignment (a reassignment does not change it); null until a responder is assigned."`
	TimeToArriveSeconds *float64   `json:"time_to_arrive_seconds" example:"388.1" doc:"Seconds from creation to the first arrival; null until a responder arrives."`
	State               SLAState   `json:"state" doc:"on_track; at_risk past 80 % of a running target, or at once when the assigned responder's ETA passes arrive_by, or past half the assignment target with no responder in range; breached when a target was missed; met when both were."`
}

// ResponderAssignment is the responder sent to an incident.
type ResponderAssignment struct {
	ResponderID    string     `json:"responder_id" example:"rsp_a1b2c3d4e5f6g7h8" doc:"The responder's id."`
	Name           string     `json:"name" example:"Unit 7 — Emeka Obi" doc:"The responder's name."`
	Phone          *string    `json:"phone" example:"+2348031112222" doc:"The responder's phone number (E.164); null when unknown."`
	Location       geo.Point  `json:"location" example:"[3.4102,6.4311]" doc:"Where the responder was when assigned, [longitude, latitude]."`
	DistanceMeters float64    `json:"distance_meters" example:"1840.2" doc:"Great-circle distance from the responder to the incident at assignment, in metres."`
	ETASeconds     float64    `json:"eta_seconds" example:"221" doc:"Estimated travel time at assignment, in seconds."`
	AssignedAt     clock.Time `json:"assigned_at" doc:"When the responder was assigned."`
	ArrivedAt      clock.Time `json:"arrived_at" nullable:"true" doc:"When the responder arrived; null until then."`
}

// Clone returns a deep copy, so adapters and callers never share memory.
func (i *Incident) Clone() *Incident {
	c := *i
	c.IdempotencyKey = clone.Ptr(i.IdempotencyKey)
	c.Description = clone.Ptr(i.Description)
	c.ResolutionOutcome = clone.Ptr(i.ResolutionOutcome)
	c.ResolutionNotes = clone.Ptr(i.ResolutionNotes)
	c.CancelReasonCode = clone.Ptr(i.CancelReasonCode)
	c.Subject = Subject{
		Name: clone.Ptr(i.Subject.Name), Phone: clone.Ptr(i.Subject.Phone), Email: clone.Ptr(i.Subject.Email),
		Reference: clone.Ptr(i.Subject.Reference), Metadata: maps.Clone(i.Subject.Metadata),
	}
	c.Location.Address = clone.Ptr(i.Location.Address)
	c.Location.Landmark = clone.Ptr(i.Location.Landmark)
	c.Timeline = slices.Clone(i.Timeline)
	if i.SLA != nil {
		s := *i.SLA
		s.TimeToAssignSeconds = clone.Ptr(s.TimeToAssignSeconds)
		s.TimeToArriveSeconds = clone.Ptr(s.TimeToArriveSeconds)
		c.SLA = &s
	}
	if i.Responder != nil {
		r := *i.Responder
		r.Phone = clone.Ptr(r.Phone)
		c.Responder = &r
	}
	return &c
}
