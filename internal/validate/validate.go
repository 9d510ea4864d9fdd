// Package validate holds the input rules every domain shares, each error
// naming the field it is about (setyerr.Invalid).
package validate

import (
	"net/mail"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/sety-io/sety/setyerr"
)

// Text rejects text that is not valid UTF-8, holds control characters
// other than tab and line breaks, or has more than max characters.
func Text(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return setyerr.Invalidf(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(v) > max {
		return setyerr.Invalidf(field, "must be at most %d characters", max)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return setyerr.Invalidf(field, "must not contain control characters")
		}
	}
	return nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// Phone requires an E.164 number such as +2348031234567.
func Phone(field, v string) error {
	if !e164.MatchString(v) {
		return setyerr.Invalidf(field, "must be an E.164 number such as +2348031234567")
	}
	return nil
}

// Email requires a bare address (no display name).
func Email(field, v string) error {
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return setyerr.Invalidf(field, "must be an email address")
	}
	return nil
}

// Window fills the zero bounds of a report's window [from, to] as the
// contract documents them (to defaults to now, from to 30 days before to)
// and rejects a window that ends before it starts, naming from_date.
func Window(from, to, now time.Time) (time.Time, time.Time, error) {
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	if from.After(to) {
		return from, to, setyerr.Invalidf("from_date", "must not be after to_date")
	}
	return from, to, nil
}

// Set rejects a list of enum values that holds an unknown value or one
// value twice: such a list holds at most the enum's values, which keeps
// every filter built from it (an SQL IN list) short whatever a caller sends.
func Set[T ~string](field string, values []T, valid func(T) bool) error {
	for i, v := range values {
		if !valid(v) {
			return setyerr.Invalidf(field, "unknown value %.40q", string(v))
		}
		if slices.Contains(values[:i], v) {
			return setyerr.Invalidf(field, "value %q appears twice", string(v))
		}
	}
	return nil
}
