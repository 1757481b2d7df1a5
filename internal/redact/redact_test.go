package redact

import (
	"strings"
	"testing"
	"unicode"
)

// phones are international formats seen in comments; each must vanish whole.
var phones = []string{
	"030/12 34 56",             // Berlin, slash after the area code
	"030 1234567",              // Germany, plain
	"0049 30 1234567",          // Germany, 00 prefix
	"+49 (0)30 1234567",        // Germany, trunk zero in parentheses
	"+49-30-123456-78",         // Germany, extension by dash
	"+44 20 7946 0958",         // London
	"020 7946 0958",            // London, national
	"0044 20 7946 0958",        // London, 00 prefix
	"(212) 555-0199",           // US
	"212-555-0199",             // US, dashes
	"212.555.0199",             // US, dots
	"+1 212 555 0199",          // US, international
	"1-800-555-0199",           // US toll-free
	"06-12345678",              // Netherlands, mobile
	"+31 6 12345678",           // Netherlands, international
	"+33 6 12 34 56 78",        // France
	"06 12 34 56 78",           // France, national
	"+39 06 1234 5678",         // Italy
	"+34 912 345 678",          // Spain
	"+61 2 9876 5432",          // Australia
	"+81 3-1234-5678",          // Japan
	"０３０/１２ ３４ ５６",             // full-width digits
	"＋４９ ３０ １２３４５６７",           // full-width plus and digits
	"０９０－１２３４－５６７８",            // Japanese mobile, full-width dashes
	"+49\u00a030\u00a01234567", // non-breaking spaces
	"0301234567",               // no separators
	"٠٣٠ ١٢٣٤٥٦٧",              // Arabic-Indic digits
	"+4930 123 45 67",
	"030 -  1234567",    // spaces typed twice
	"+49  30   1234567", // mixed grouping
}

// emails include letters beyond ASCII.
var emails = []string{
	"a.b+c@mail.example.co.uk",
	"jürgen@müller.de",
	"JÜRGEN.Müller@Bäckerei-Schmidt.de",
	"françois@exemple.fr",
	"søren@eksempel.dk",
	"анна@пример.рф",
	"user_1987@web.de",
	"θέμης@παράδειγμα.ελ",
}

func TestPhonesVanishWhole(t *testing.T) {
	for _, p := range phones {
		for _, tmpl := range []string{"%s", "call %s please", "Call me at %s.", "(%s)", "tel:%s, thanks", "x %s; y"} {
			in := strings.Replace(tmpl, "%s", p, 1)
			got := Comment(in)
			if strings.Count(got, "[phone]") != 1 {
				t.Errorf("Comment(%q) = %q, want one [phone]", in, got)
			}
			// Never half a number: not one digit of it is left.
			if i := strings.IndexFunc(got, unicode.IsDigit); i >= 0 {
				t.Errorf("Comment(%q) = %q leaves a digit", in, got)
			}
			if want := strings.Replace(tmpl, "%s", "[phone]", 1); got != want {
				t.Errorf("Comment(%q) = %q, want %q", in, got, want)
			}
		}
	}
}

func TestEmailsVanishWhole(t *testing.T) {
	for _, e := range emails {
		in := "write to " + e + " today"
		if got, want := Comment(in), "write to [email] today"; got != want {
			t.Errorf("Comment(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Comment("mail jürgen＠müller.de"); got != "mail [email]" {
		t.Errorf("full-width at sign: %q", got)
	}
}

// TestKept: what looks like numbers but is not a phone stays readable.
func TestKept(t *testing.T) {
	for _, s := range []string{
		"9/10, would recommend",
		"gave it a 10 out of 10",
		"waited 25 minutes, 3 transfers",
		"visited on 2026-12-01 and again on 01.12.2026",
		"on 12/01/2026 at 14:05 the line dropped",
		"2026-12-01 09:30",
		"2026-12-01T09:30:00Z",
		"open 9:00-17:30",
		"ticket 4711 is still open",
		"paid €49.99, then 1,299.00",
		"30% faster, 2x better",
		"between 2 and 3 pm",
		"the @support team",
		"a@b",
	} {
		if got := Comment(s); got != s {
			t.Errorf("Comment(%q) = %q, want it unchanged", s, got)
		}
	}
}

// TestLongNumbers: any run of 7 or more digits in phone form is hidden,
// whatever it is: an order, account or card number on a wall TV is as
// private as a phone number, and a guess that leaves half would be worse.
func TestLongNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"order 12345678 never came":  "order [phone] never came",
		"card 4111 1111 1111 1111":   "card [phone]",
		"at 14:05 call 0171 1234567": "at 14:05 call [phone]",
		"mixed: 123-456 and 7":       "mixed: 123-456 and 7",
	} {
		if got := Comment(in); got != want {
			t.Errorf("Comment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMixed(t *testing.T) {
	in := "Jürgen (jürgen@müller.de, 030/12 34 56) rated 9/10 on 2026-12-01."
	if got, want := Comment(in), "Jürgen ([email], [phone]) rated 9/10 on 2026-12-01."; got != want {
		t.Errorf("Comment(%q) = %q, want %q", in, got, want)
	}
}

// TestSeparatorsBound: more than three separators between two groups end
// a number, so numbers in one sentence are not joined across words.
func TestSeparatorsBound(t *testing.T) {
	if got, want := Comment("rooms 12 -/- 34, 5678901"), "rooms 12 -/- 34, [phone]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
