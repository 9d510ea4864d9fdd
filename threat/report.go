package threat

import (
	"context"
	"slices"
	"time"

	"github.com/sety-io/sety/geo"
)

// Report is one incident as the engine sees it: where, when, what, how bad.
// Incidents reach the engine as reports, translated where Sety is wired
// together (the store at start, committed events after); external reports
// (crime feeds, partner data) through Engine.Add. The engine knows nothing
// else of an incident.
type Report struct {
	At       time.Time
	Location geo.Point
	Category Category
	Severity Severity
}

// Source lists the reports the engine starts from: for Sety's own store,
// the incidents created since a time that count as threats (live, not a
// drill, not a false alarm).
type Source interface {
	// ThreatReports calls fn with every report since since, from one
	// consistent view of the store, and returns the checkpoint that view
	// is as of: the reader follows later changes from there, without
	// missing or repeating any.
	ThreatReports(ctx context.Context, since time.Time, fn func(Report) error) (Checkpoint, error)
}

// Checkpoint is where a Source's view stands in the log of changes a
// reader follows after it (for Sety's store, the outbox).
type Checkpoint struct {
	// Position is the last log position the view holds: every change at or
	// before it is in the view.
	Position int64
	// Ahead lists the changes the view holds that the log had not yet
	// given a position (a store that orders its log after commit): they
	// come after Position, and a reader that reaches one skips it. Each
	// is named by its subject and the subject's sequence number.
	Ahead []Change
}

// Change names one change of a subject: the subject's id and its sequence
// number, which increases by one per change of the subject.
type Change struct {
	Subject  string
	Sequence int64
}

// Category is the kind of a report: the incident categories of the Sety
// contract. The engine keeps one aggregate per category.
type Category string

// The categories the engine aggregates.
const (
	SOS            Category = "sos"
	Vehicle        Category = "vehicle"
	LocationThreat Category = "location_threat"
	Medical        Category = "medical"
)

// Categories lists every category, in the engine's aggregate order.
var Categories = []Category{SOS, Vehicle, LocationThreat, Medical}

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// Severity is how bad a report is; it sets the report's weight.
type Severity string

// The severities, lowest first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists every severity, lowest first.
var Severities = []Severity{Low, Medium, High, Critical}

// Weight is the severity's weight in the contract: low 1, medium 2, high 3,
// critical 5; 0 for a severity that is none of them.
func (s Severity) Weight() float64 {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Critical:
		return 5
	}
	return 0
}
