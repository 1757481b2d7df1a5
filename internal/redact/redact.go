// Package redact hides e-mail addresses and phone numbers in free text, such
// as survey comments shown on a wall TV.
//
// E-mail addresses may hold letters of any script (jürgen@müller.de,
// анна@пример.рф) and a full-width at sign. Phone numbers are found by
// shape rather than by country: a run of digits (any script's, so
// full-width ０-９ count) joined by the separators phone numbers are written
// with — spaces, dashes, dots, slashes, parentheses, in ASCII or full-width
// — optionally led by "+", that holds at least 7 digits. The whole run is
// replaced, never part of it: "030/12 34 56" becomes "[phone]", not
// "030/[phone]". Dates and times (2026-12-01, 01.12.2026, 14:05, 9:00-17:30)
// are kept, and so are shorter numbers (9/10, 25 minutes, ticket 4711).
//
// Any other run of 7 or more digits is hidden as well, because it cannot be
// told from a phone number written without separators: long order, account
// and card numbers show as "[phone]" too. On a wall TV, hiding a number that
// was harmless is the cheap mistake.
package redact

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The replacements.
const (
	Email = "[email]"
	Phone = "[phone]"
)

// MinPhoneDigits is the fewest digits a run needs to be hidden: the
// shortest national numbers with their area code have 7.
const MinPhoneDigits = 7

// maxSeparators bounds the separators between two digit groups of one
// number, as in "+49 (0)30" (" (" is two) or "030 / 1234" (three).
const maxSeparators = 3

var emailRE = regexp.MustCompile(`[\p{L}\p{M}\p{N}._%+'-]+[@＠](?:[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?\.)+\p{L}[\p{L}\p{M}]+`)

// Comment returns s with every e-mail address replaced by Email and every
// phone number (see the package comment) by Phone.
func Comment(s string) string {
	s = emailRE.ReplaceAllString(s, Email)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		start, end, ok := numberAt(s, i)
		if !ok {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		if hide(s[start:end]) {
			b.WriteString(s[last:start])
			b.WriteString(Phone)
			last = end
		}
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// numberAt reports the number that starts at i, if one does: a digit, or a
// plus sign or an opening parenthesis right before one. The number runs
// over digits and short runs of separators up to its last digit, then takes
// a closing parenthesis that balances one inside it; an opening parenthesis
// that nothing closes is left out.
func numberAt(s string, i int) (start, end int, ok bool) {
	r, n := utf8.DecodeRuneInString(s[i:])
	if !unicode.IsDigit(r) {
		if !isPlus(r) && !isOpen(r) {
			return 0, 0, false
		}
		if next, _ := utf8.DecodeRuneInString(s[i+n:]); !unicode.IsDigit(next) {
			return 0, 0, false
		}
	}
	start, end = i, i
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		switch {
		case unicode.IsDigit(r) || j == start:
			j += n
			end = j
			continue
		case !isSeparator(r):
		default:
			// A run of separators belongs to the number only if a digit
			// follows it. Spaces in a row count once: "030 -  1234567"
			// is one number however it was typed.
			k, seps := j, 0
			prev := rune(0)
			for k < len(s) {
				r, n := utf8.DecodeRuneInString(s[k:])
				if !isSeparator(r) {
					break
				}
				if !(unicode.IsSpace(r) && unicode.IsSpace(prev)) {
					seps++
				}
				if seps > maxSeparators {
					break
				}
				k += n
				prev = r
			}
			if k < len(s) {
				if r, _ := utf8.DecodeRuneInString(s[k:]); unicode.IsDigit(r) {
					j = k
					continue
				}
			}
		}
		break
	}
	// "(030 1234567)": the parentheses are the text's, not the number's.
	if r, n := utf8.DecodeRuneInString(s[start:]); isOpen(r) {
		if _, closes := parens(s[start+n : end]); closes == 0 {
			start += n
		}
	}
	// "+49 (0" cut at its last digit takes its ")" back.
	if opens, _ := parens(s[start:end]); opens > 0 && end < len(s) {
		if r, n := utf8.DecodeRuneInString(s[end:]); isClose(r) {
			end += n
		}
	}
	return start, end, true
}

// parens counts the opening parentheses of s that it does not close, and
// the closing ones that close nothing in s.
func parens(s string) (opens, closes int) {
	for _, r := range s {
		switch {
		case isOpen(r):
			opens++
		case isClose(r) && opens > 0:
			opens--
		case isClose(r):
			closes++
		}
	}
	return opens, closes
}

// hide decides whether a number is hidden: enough digits, and not a date,
// a time or a sequence of them.
func hide(num string) bool {
	digits := 0
	for _, r := range num {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	return digits >= MinPhoneDigits && !dateOrTime(num)
}

var (
	// A date or time, then more of them, separated as in "2026-12-01 09:30"
	// or "9:00-17:30". Applied to the number in ASCII.
	dateTimeRE = regexp.MustCompile(`^` + dateTimeItem + `(?:\s*[-/]?\s*` + dateTimeItem + `)*$`)
	itemRE     = regexp.MustCompile(dateTimeItem)
)

const dateTimeItem = `(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{1,2}:\d{2}(?::\d{2})?)`

// dateOrTime reports whether a number is only dates and times, each with
// plausible fields: "12.34.5678" is not a date, so it is still hidden.
func dateOrTime(num string) bool {
	a := ascii(num)
	if !dateTimeRE.MatchString(a) {
		return false
	}
	for _, item := range itemRE.FindAllString(a, -1) {
		if !plausible(item) {
			return false
		}
	}
	return true
}

func plausible(item string) bool {
	if strings.Contains(item, ":") {
		f := fields(item, ":")
		return f[0] <= 24 && f[1] <= 59 && (len(f) < 3 || f[2] <= 59)
	}
	f := fields(item, "-/.")
	year := func(y int) bool { return y >= 1900 && y <= 2099 }
	if year(f[0]) && f[0] >= 1000 {
		return f[1] >= 1 && f[1] <= 12 && f[2] >= 1 && f[2] <= 31
	}
	// Day and month in either order, as in 01.12.2026 and 12/01/2026.
	return year(f[2]) && f[0] >= 1 && f[1] >= 1 && f[0] <= 31 && f[1] <= 31 && (f[0] <= 12 || f[1] <= 12)
}

// fields splits at any of seps and parses the parts, which the caller's
// regexp made digits.
func fields(s, seps string) []int {
	var out []int
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

// ascii maps any script's digits to 0-9 and full-width or non-breaking
// separators to their ASCII forms, for the date and time patterns.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) && r > unicode.MaxASCII {
			if d := digitValue(r); d >= 0 {
				return '0' + rune(d)
			}
		}
		switch r {
		case '\u00a0', '\u2009', '\u202f', '\u3000':
			return ' '
		case '－', '‐', '‑', '–':
			return '-'
		case '．':
			return '.'
		case '／':
			return '/'
		case '：':
			return ':'
		}
		return r
	}, s)
}

// digitValue is the value of a decimal digit of any script: Unicode lays
// each script's ten digits out in order, starting at a code point whose low
// nibble is 0 or 6 (full-width ０ is U+FF10, Arabic-Indic ٠ U+0660,
// Devanagari ० U+0966).
func digitValue(r rune) int {
	for zero := r - 9; zero <= r; zero++ {
		if unicode.IsDigit(zero) && !unicode.IsDigit(zero-1) {
			return int(r - zero)
		}
	}
	return -1
}

func isPlus(r rune) bool  { return r == '+' || r == '＋' }
func isOpen(r rune) bool  { return r == '(' || r == '（' }
func isClose(r rune) bool { return r == ')' || r == '）' }

// isSeparator reports whether r may stand between the digit groups of a
// phone number, a date or a time.
func isSeparator(r rune) bool {
	switch r {
	case ' ', '\u00a0', '\u2009', '\u202f', '\u3000', // spaces
		'-', '‐', '‑', '–', '－', // dashes
		'.', '．', '/', '／', ':', '：',
		'(', ')', '（', '）':
		return true
	}
	return false
}
