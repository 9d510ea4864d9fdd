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
	b := make([]byte, 0, len(`"2006-01-02T15:04:05.000Z"`))
	b = AppendLayout(append(b, '"'), t.Time)
	return append(b, '"'), nil
}

// Format is t in Layout, in UTC, as AppendLayout writes it.
func Format(t time.Time) string {
	return string(AppendLayout(make([]byte, 0, len("2006-01-02T15:04:05.000Z")), t))
}

// AppendLayout appends t in Layout, in UTC. A change's encoding writes a
// dozen timestamps, and every rate-limited answer one (X-RateLimit-Reset):
// they are written digit by digit, not through time.Format's reading of
// the layout, for years 0 to 9999 (the others through Format, which writes
// them its own way).
func AppendLayout(b []byte, t time.Time) []byte {
	u := t.UTC()
	year, month, day := u.Date()
	if year < 0 || year > 9999 {
		return u.AppendFormat(b, Layout)
	}
	hour, minute, second := u.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), second, 2)
	b = appendDigits(append(b, '.'), u.Nanosecond()/1e6, 3) // truncated, as Format does
	return append(b, 'Z')
}

// appendDigits appends the n lowest decimal digits of v (v >= 0), zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	for range n {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
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
