package validate

import (
	"math/rand/v2"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sety-io/sety/setyerr"
)

// textByPasses is Text as it was, in three passes over the text: the
// reference the one pass is held to.
func textByPasses(field, v string, max int) error {
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

// phoneByRegexp is Phone as it was.
var phoneByRegexp = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRulesAgreeWithTheirReferences holds Text and Phone to the
// three-pass text check and the E.164 regular expression they replaced,
// on random strings built from the characters that decide them.
func TestRulesAgreeWithTheirReferences(t *testing.T) {
	pieces := []string{"a", "é", "🚗", "\t", "\n", "\r", "\x00", "\x1f", "\x7f", "\xff", "\xe2\x82", "\ufffd", "+", "0", "1", "9", " ", "x"}
	rng := rand.New(rand.NewPCG(25, 3))
	for range 50_000 {
		var b strings.Builder
		for range rng.IntN(20) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		v, max := b.String(), rng.IntN(12)
		if got, want := errText(Text("f", v, max)), errText(textByPasses("f", v, max)); got != want {
			t.Fatalf("Text(%q, %d) = %q, want %q", v, max, got, want)
		}
		if got, want := Phone("f", v) == nil, phoneByRegexp.MatchString(v); got != want {
			t.Fatalf("Phone(%q) accepts: %v, the regular expression: %v", v, got, want)
		}
	}
	for _, v := range []string{"+12", "+1", "+123456789012345", "+1234567890123456", "+0123", "+2348031234567", "+2348031234567\n", "2348031234567", "+23480312345a7"} {
		if got, want := Phone("f", v) == nil, phoneByRegexp.MatchString(v); got != want {
			t.Errorf("Phone(%q) accepts: %v, the regular expression: %v", v, got, want)
		}
	}
}

// emailByParse is Email as it was: net/mail alone.
func emailByParse(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v
}

// Email answers as net/mail did alone, on random strings built from the
// characters that decide an address, and on the cases that mark its edges.
func TestEmailAgreesWithNetMail(t *testing.T) {
	pieces := []string{"a", "Z", "0", ".", "@", "-", "+", "_", "'", "~", "\"", " ", "(", ")", "<", ">", "[", "]", "\\", ",", ";", ":", "é", "\xff", "\x00", "\t", "x.y", "ex.com"}
	rng := rand.New(rand.NewPCG(25, 4))
	plain := 0
	for range 200_000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		v := b.String()
		if got, want := Email("f", v) == nil, emailByParse(v); got != want {
			t.Fatalf("Email(%q) accepts: %v, net/mail: %v", v, got, want)
		}
		if plainAddress(v) {
			plain++
		}
	}
	if plain == 0 {
		t.Error("no random address was plain")
	}
	for _, v := range []string{"ada@example.com", "a@b", "a.b@c.d", ".a@b", "a.@b", "a..b@c", "a@.b", "a@b.", "a@b..c", "a@@b", "@b", "a@",
		"a@b@c", "é@b", "a@é", `"a"@b`, `"a b"@c`, "a@[1.2.3.4]", "a@[b]", " a@b", "a@b ", "a@b (c)", "Ada <a@b>", "<a@b>", "a(b)@c",
		"!#$%&'*+-/=?^_`{|}~@example.com", "a@b-c.d", "a\x7f@b", "a@b\x00", "amaka.obi@example.com"} {
		if got, want := Email("f", v) == nil, emailByParse(v); got != want {
			t.Errorf("Email(%q) accepts: %v, net/mail: %v", v, got, want)
		}
	}
}

func FuzzEmailAgreesWithNetMail(f *testing.F) {
	for _, v := range []string{"ada@example.com", "a..b@c", `"a"@b`, "a@[1.2.3.4]", "Ada <a@b>"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := Email("f", v) == nil, emailByParse(v); got != want {
			t.Errorf("Email(%q) accepts: %v, net/mail: %v", v, got, want)
		}
	})
}

// A plain address is checked without net/mail's allocations (five).
func TestEmailAllocatesNothingForAPlainAddress(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = Email("subject.email", "amaka.obi@example.com") }); n != 0 {
		t.Errorf("Email allocates %v times for a plain address", n)
	}
}
