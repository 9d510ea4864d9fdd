package incident

import (
	"reflect"
	"strconv"
	"unicode/utf8"
)

// DecodeChecked decodes data as DecodeJSON does and reports whether it did
// and the request meets every rule of the schema the HTTP API documents
// for it (huma's, from the struct tags): category and location.coordinates
// present, category and severity among their values, no text longer than
// its maxLength. For anything else it reports false and leaves r
// unchanged: the API then decodes and validates the text as huma would
// (httpapi.ResolveBody), so every refusal keeps its answer. Only what the
// schema says is checked here; the contract's other rules (the phone's
// form, the metadata's limits) are the service's, as for Go callers.
//
// huma validates a body by decoding it into a map[string]any tree first;
// checking the typed values spares a create that tree and its walk.
// TestDecodeCheckedIsHumasValidation (incidentapi) holds it to huma's
// validation against the registered schema.
func (r *CreateIncidentRequest) DecodeChecked(data []byte) bool {
	if *r != (CreateIncidentRequest{}) {
		return false
	}
	out, seen, ok := decodeCreate(data)
	if !ok || !out.meetsSchema(seen) {
		return false
	}
	*r = out
	return true
}

// meetsSchema reports whether r, decoded from a text that held the keys
// seen, meets the schema's rules. decodeCreate already refused what the
// schema types refuse (null, unknown keys, a value of another type, other
// than two coordinates).
func (r *CreateIncidentRequest) meetsSchema(seen present) bool {
	switch {
	case seen.top&hasCategory == 0 || !r.Category.Valid():
		return false
	case seen.top&hasSeverity != 0 && !r.Severity.Valid():
		return false
	case seen.top&hasLocation == 0 || seen.location&hasCoordinates == 0:
		return false
	}
	l := &textLimits
	if !atMost(r.Title, l.title) || !atMost(r.Description, l.description) || !atMost(r.IdempotencyKey, l.idempotencyKey) ||
		!atMost(r.Location.Address, l.address) || !atMost(r.Location.Landmark, l.landmark) {
		return false
	}
	if s := r.Subject; s != nil {
		// Each is present and a string when set: decodeCreate takes no null.
		return atMostSet(s.Name, l.name) && atMostSet(s.Phone, l.phone) && atMostSet(s.Email, l.email) &&
			atMostSet(s.Reference, l.reference)
	}
	return true
}

// textLimits are the maxLength tags of the request's text fields, read
// from the tags huma documents, so that the checks and the schema cannot
// differ.
var textLimits = struct {
	title, description, idempotencyKey, address, landmark, name, phone, email, reference int
}{
	maxLength[CreateIncidentRequest]("Title"), maxLength[CreateIncidentRequest]("Description"),
	maxLength[CreateIncidentRequest]("IdempotencyKey"), maxLength[Location]("Address"), maxLength[Location]("Landmark"),
	maxLength[Subject]("Name"), maxLength[Subject]("Phone"), maxLength[Subject]("Email"), maxLength[Subject]("Reference"),
}

// maxLength is the maxLength tag of T's field name. A field without one
// is a mistake in this file, found by every test that loads the package.
func maxLength[T any](name string) int {
	f, _ := reflect.TypeFor[T]().FieldByName(name)
	n, err := strconv.Atoi(f.Tag.Get("maxLength"))
	if err != nil {
		panic("incident: " + reflect.TypeFor[T]().Name() + "." + name + " has no maxLength tag")
	}
	return n
}

// atMost reports whether s has at most n characters, as huma counts them
// (runes).
func atMost(s string, n int) bool {
	return len(s) <= n || utf8.RuneCountInString(s) <= n
}

func atMostSet(s *string, n int) bool { return s == nil || atMost(*s, n) }
