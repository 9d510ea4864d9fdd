package incident

import (
	"strings"
	"unicode/utf8"

	"github.com/sety-io/sety/geo"
	"github.com/sety-io/sety/internal/validate"
	"github.com/sety-io/sety/setyerr"
)

// CreateIncidentRequest is what a caller sends to report an incident.
type CreateIncidentRequest struct {
	Category       Category `json:"category" example:"sos" doc:"What kind of emergency."`
	Location       Location `json:"location" doc:"Where the incident is."`
	Severity       Severity `json:"severity,omitempty" example:"critical" doc:"Default: high for sos, vehicle and medical; medium for location_threat."`
	Subject        *Subject `json:"subject,omitempty" doc:"The person in danger."`
	Title          string   `json:"title,omitempty" maxLength:"200" example:"Vehicle emergency reported by rider" doc:"Default from the category, e.g. \"SOS alert\"."`
	Description    string   `json:"description,omitempty" maxLength:"5000" example:"Rider pressed the panic button twice; driver not answering." doc:"Free text for the responder."`
	IdempotencyKey string   `json:"idempotency_key,omitempty" maxLength:"255" example:"trip_7f3k92lq" doc:"Your retry key, e.g. a trip or session id. A repeated key returns the existing incident."`
	IsDrill        bool     `json:"is_drill,omitempty" doc:"Mark a live incident as a drill. Test keys always create drills."`
}

// Location is where a caller reports an incident.
type Location struct {
	Coordinates geo.Point `json:"coordinates" nullable:"false" doc:"[longitude, latitude] (GeoJSON order)." example:"[3.4219,6.4281]"`
	Address     string    `json:"address,omitempty" maxLength:"500" example:"22 Adeola Odeku Street, Victoria Island, Lagos" doc:"Street address."`
	Landmark    string    `json:"landmark,omitempty" maxLength:"200" example:"Opposite the filling station" doc:"A landmark that helps the responder find the place."`
}

// CancelIncidentRequest is the optional body of a cancel.
type CancelIncidentRequest struct {
	Reason     string       `json:"reason,omitempty" maxLength:"1000" example:"User confirmed safe" doc:"Why, in words, e.g. \"user confirmed safe\"; kept in the timeline."`
	ReasonCode CancelReason `json:"reason_code,omitempty" example:"false_alarm" doc:"Why, as a code: false_alarm and duplicate leave the incident out of threat intelligence."`
}

// AddNoteRequest is the body of an add-note call.
type AddNoteRequest struct {
	Message string `json:"message" minLength:"1" maxLength:"2000" example:"Caller reports the vehicle moved north on Ozumba Mbadiwe." doc:"The note, appended to the timeline as note_added."`
}

// validate checks every rule of the contract, naming the failing field. It
// repeats the limits huma enforces at the HTTP edge because Go callers reach
// the service without passing through huma.
func (r *CreateIncidentRequest) validate() error {
	if r.Category == "" {
		return setyerr.Invalidf("category", "is required")
	}
	if !r.Category.Valid() {
		return setyerr.Invalidf("category", "must be one of sos, vehicle, location_threat, medical")
	}
	if r.Severity != "" && !r.Severity.Valid() {
		return setyerr.Invalidf("severity", "must be one of low, medium, high, critical")
	}
	if r.Location.Coordinates == (geo.Point{}) {
		// The zero point is a Location a Go caller left unset far more often
		// than an emergency in the Gulf of Guinea.
		return setyerr.Invalidf("location.coordinates", "is required (Location.Coordinates is [0, 0], the zero value)")
	}
	if err := r.Location.Coordinates.Validate("location.coordinates"); err != nil {
		return setyerr.Invalidf("location.coordinates", "%s", strings.TrimPrefix(err.Error(), "location.coordinates: "))
	}
	checks := []struct {
		field, value string
		max          int
	}{
		{"location.address", r.Location.Address, 500},
		{"location.landmark", r.Location.Landmark, 200},
		{"title", r.Title, 200},
		{"description", r.Description, 5000},
		{"idempotency_key", r.IdempotencyKey, 255},
	}
	for _, c := range checks {
		if err := checkText(c.field, c.value, c.max); err != nil {
			return err
		}
	}
	if r.Subject != nil {
		return validateSubject(r.Subject)
	}
	return nil
}

func validateSubject(s *Subject) error {
	for _, c := range []struct {
		field string
		value *string
		max   int
	}{
		{"subject.name", s.Name, 200},
		{"subject.phone", s.Phone, 16},
		{"subject.email", s.Email, 254},
		{"subject.reference", s.Reference, 255},
	} {
		if c.value != nil {
			if err := checkText(c.field, *c.value, c.max); err != nil {
				return err
			}
		}
	}
	if s.Phone != nil && *s.Phone != "" {
		if err := validate.Phone("subject.phone", *s.Phone); err != nil {
			return err
		}
	}
	if s.Email != nil && *s.Email != "" {
		if err := validate.Email("subject.email", *s.Email); err != nil {
			return err
		}
	}
	if len(s.Metadata) > 50 {
		return setyerr.Invalidf("subject.metadata", "must have at most 50 keys")
	}
	for k, v := range s.Metadata {
		if k == "" || utf8.RuneCountInString(k) > 40 {
			return setyerr.Invalidf("subject.metadata", "keys must be 1 to 40 characters")
		}
		// Its error is replaced, so its field name is not built per key.
		if err := checkText("subject.metadata", v, 500); err != nil {
			return setyerr.Invalidf("subject.metadata", "values must be valid text of at most 500 characters")
		}
		if err := checkText("subject.metadata", k, 40); err != nil {
			return err
		}
	}
	return nil
}

// checkText is the shared text rule, naming field.
func checkText(field, v string, max int) error { return validate.Text(field, v, max) }

// optional returns nil for empty text, so unset fields are null on the wire.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
