package access

import (
	"encoding/json"

	"github.com/sety-io/sety/auth"
	"github.com/sety-io/sety/outbox"
	"github.com/sety-io/sety/setyerr"
)

// LogEventPayload decodes the data of a visit event (access.checked_in,
// access.checked_out): the visit as it was right after the change, with its
// organization and environment from the event. Another type is a
// setyerr.Invalid error naming ev.Type.
func LogEventPayload(ev outbox.Event) (*AccessLog, error) {
	if ev.Type != TypeCheckedIn && ev.Type != TypeCheckedOut {
		return nil, setyerr.Invalidf("ev.Type", "%q is not %s or %s", ev.Type, TypeCheckedIn, TypeCheckedOut)
	}
	var data struct {
		Log *AccessLog `json:"access_log"`
	}
	if err := decode(ev, &data); err != nil {
		return nil, err
	}
	if data.Log == nil {
		return nil, setyerr.Invalidf("ev.Data", "holds no access_log")
	}
	data.Log.OrgID, data.Log.Environment = ev.OrgID, auth.Environment(ev.Environment)
	return data.Log, nil
}

// CodeEventPayload decodes the data of an access.code_revoked event: the
// code as it was right after the revocation (its hash is never in an
// event), with its organization and environment from the event.
func CodeEventPayload(ev outbox.Event) (*AccessCode, error) {
	if ev.Type != TypeCodeRevoked {
		return nil, setyerr.Invalidf("ev.Type", "%q is not %s", ev.Type, TypeCodeRevoked)
	}
	var data struct {
		Code *AccessCode `json:"access_code"`
	}
	if err := decode(ev, &data); err != nil {
		return nil, err
	}
	if data.Code == nil {
		return nil, setyerr.Invalidf("ev.Data", "holds no access_code")
	}
	data.Code.OrgID, data.Code.Environment = ev.OrgID, auth.Environment(ev.Environment)
	return data.Code, nil
}

func decode(ev outbox.Event, v any) error {
	if err := json.Unmarshal(ev.Data, v); err != nil {
		return setyerr.Wrap(setyerr.Invalid, err, "ev.Data: not the data of a "+ev.Type+" event")
	}
	return nil
}
