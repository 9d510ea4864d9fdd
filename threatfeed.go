package sety

import (
	"context"
	"encoding/json"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/incident"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/threat"
)

// threatFeed keeps the threat engine current from committed incident
// events. It is where incidents are translated into threat reports, so the
// threat package depends on no domain: a live incident counts from its
// creation and stops counting when it turns out not to be a threat (a false
// alarm), by the one rule incident.CountsAsThreat.
type threatFeed struct{ engine *threat.Engine }

func (f threatFeed) Notify(_ context.Context, events []outbox.Event) {
	for _, ev := range events {
		// Only live incidents count, and only these events can change
		// whether one does: the others are not even decoded.
		if ev.Environment != string(auth.Live) {
			continue
		}
		switch ev.Type {
		case incident.TypeCreated, incident.TypeCancelled, incident.TypeResolved:
		default:
			continue
		}
		inc, ok := decodeIncident(ev)
		if !ok {
			continue
		}
		switch ev.Type {
		case incident.TypeCreated:
			if inc.CountsAsThreat() {
				f.engine.Add(threatReport(inc))
			}
		case incident.TypeCancelled, incident.TypeResolved:
			// It counted from its creation if it was live and no drill; the
			// outcome may now say it was no threat after all.
			if inc.Environment == auth.Live && !inc.IsDrill && !inc.CountsAsThreat() {
				f.engine.Remove(threatReport(inc))
			}
		}
	}
}

// decodeIncident reads the incident snapshot of an incident event. The
// environment is not in the payload: the event carries it.
func decodeIncident(ev outbox.Event) (*incident.Incident, bool) {
	var data struct{ Incident *incident.Incident }
	if err := json.Unmarshal(ev.Data, &data); err != nil || data.Incident == nil {
		return nil, false
	}
	data.Incident.OrgID, data.Incident.Environment = ev.OrgID, auth.Environment(ev.Environment)
	return data.Incident, true
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
