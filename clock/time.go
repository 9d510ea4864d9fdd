package clock

import (
	"bytes"
	"time"
)

// Layout is the wire format of every Sety timestamp: RFC 3339 in UTC with
// exactly three fractional digits, e.g. 2026-03-10T14:22:05.412Z.
const Layout = "2006-01-02T15:04:05.000Z07:00"

// Time is a timestamp as the Sety API shows it. The zero value is "unset" and
// marshals to null; every other value marshals in [Layout], in UTC.
// The embedded time.Time gives it the usual methods (Before, Sub, IsZero...).
type Time struct{ time.Time }

// At wraps t as a wire timestamp.
func At(t time.Time) Time { return Time{t} }

// MarshalJSON writes null for an unset time and Layout otherwise.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(Layout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, Layout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts null and any RFC 3339 timestamp.
func (t *Time) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*t = Time{}
		return nil
	}
	var v time.Time
	if err := v.UnmarshalJSON(data); err != nil {
		return err
	}
	*t = Time{v.UTC()}
	return nil
}
