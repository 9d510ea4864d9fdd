package incident

import (
	"encoding/json"
	"strings"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// EventPayload decodes the data of an incident event (type incident.*):
// the incident as it was right after the change, with its organization and
// environment, which the payload leaves to the event. An event of another
// domain is a setyerr.Invalid error naming ev.Type.
//
//	inc, err := incident.EventPayload(ev)
func EventPayload(ev outbox.Event) (*Incident, error) {
	if !strings.HasPrefix(ev.Type, "incident.") {
		return nil, setyerr.Invalidf("ev.Type", "%q is not an incident event", ev.Type)
	}
	var data struct {
		Incident *Incident `json:"incident"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		return nil, setyerr.Wrap(setyerr.Invalid, err, "ev.Data: not an incident event's data")
	}
	if data.Incident == nil {
		return nil, setyerr.Invalidf("ev.Data", "holds no incident")
	}
	data.Incident.OrgID, data.Incident.Environment = ev.OrgID, auth.Environment(ev.Environment)
	return data.Incident, nil
}
