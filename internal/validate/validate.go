// Package validate holds the input rules every domain shares, each error
// naming the field it is about (setyerr.Invalid).
package validate

import (
	"net/mail"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/sety-io/sety/setyerr"
)

// Text rejects text that is not valid UTF-8, holds control characters
// other than tab and line breaks, or has more than max characters.
func Text(field, v string, max int) error {
	// One pass over v; the errors keep their order of precedence (not
	// UTF-8, then too long, then a control character).
	n, control := 0, false
	for i := 0; i < len(v); n++ {
		r, size := rune(v[i]), 1
		if r >= utf8.RuneSelf {
			if r, size = utf8.DecodeRuneInString(v[i:]); r == utf8.RuneError && size == 1 {
				return setyerr.Invalidf(field, "must be valid UTF-8")
			}
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			control = true
		}
		i += size
	}
	if n > max {
		return setyerr.Invalidf(field, "must be at most %d characters", max)
	}
	if control {
		return setyerr.Invalidf(field, "must not contain control characters")
	}
	return nil
}

// Phone requires an E.164 number such as +2348031234567: a plus, a digit
// other than 0, then 1 to 14 digits.
func Phone(field, v string) error {
	ok := len(v) >= 3 && len(v) <= 16 && v[0] == '+' && '1' <= v[1] && v[1] <= '9'
	for i := 2; ok && i < len(v); i++ {
		ok = '0' <= v[i] && v[i] <= '9'
	}
	if !ok {
		return setyerr.Invalidf(field, "must be an E.164 number such as +2348031234567")
	}
	return nil
}

// Email requires a bare address (no display name).
func Email(field, v string) error {
	if plainAddress(v) {
		return nil
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return setyerr.Invalidf(field, "must be an email address")
	}
	return nil
}

// plainAddress reports whether v is local@domain, each a dot-atom of
// ASCII atext (RFC 5322: no leading, trailing or double dot): addresses
// that mail.ParseAddress takes with Address == v, without its five
// allocations. Every other address (non-ASCII, quoted, a domain literal,
// or not an address at all) is left to it.
func plainAddress(v string) bool {
	at := -1
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		case c == '.':
			if i == 0 || i == len(v)-1 || v[i-1] == '.' || v[i-1] == '@' || v[i+1] == '@' {
				return false
			}
		case !atext[c]:
			return false
		}
	}
	return at > 0 && at < len(v)-1
}

// atext marks the ASCII characters of RFC 5322's atext.
var atext = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	return t
}()

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
