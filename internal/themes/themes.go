// Package themes finds what a survey comment is about: a dictionary of
// themes (waiting, call-backs, transfers, billing errors, rudeness, an
// unresolved issue, praise…), each a list of words, stems and phrases in any
// number of languages, matched when the answer arrives. No external service:
// the same comment always gets the same themes, on every node.
//
// Matching, in order:
//   - the comment is lower-cased and folded (accents removed: "espéré"
//     matches "espere"), apostrophes inside words dropped ("didn't" is
//     "didnt"), and cut into words at anything that is not a letter or a
//     digit ("d'attente" is two words, as is any elision after one or two
//     letters); a sentence or clause mark (. , ; : ! ?) is remembered
//     between words;
//   - a term is one word or a phrase of consecutive words (a hyphen makes
//     a phrase: "call-back" is "call back"); a word ending in "*" is a stem
//     and matches any word it starts ("wait*" matches "waited", "waiting");
//   - a theme marked negatable ignores a match that one of the two words
//     before it negates ("not rude at all", "never rude", "no wait"), unless
//     a clause mark stands between them; themes whose terms carry the
//     negation themselves ("not fixed") are not negatable.
//
// Known limits, by design of a word list: sarcasm, negation further than
// two words away ("I would not say the agent was rude"), and words of one
// theme used in another sense ("hold on, it worked") are not understood.
package themes

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Theme is one entry of the dictionary.
type Theme struct {
	// Name is the theme's id: lower-case letters, digits, - and _, as it
	// appears in groups, filters and URLs.
	Name string `yaml:"name"`
	// Label is how boards and the console show it.
	Label string `yaml:"label"`
	// Terms are words, stems ("wait*") and phrases ("on hold"), any
	// language.
	Terms []string `yaml:"terms"`
	// Negatable themes ignore a negated match ("not rude").
	Negatable bool `yaml:"negatable"`
}

// Dictionary is a compiled set of themes.
type Dictionary struct {
	themes   []compiled
	negators map[string]bool
}

type compiled struct {
	Theme
	terms [][]word
}

type word struct {
	text string
	stem bool
}

// Match is one theme found in a comment, with the words that matched (the
// evidence a supervisor is shown), in the order they appear.
type Match struct {
	Theme string
	Words []string
}

// MaxThemes bounds a dictionary: every theme is a group in the theme
// rollups, so a dictionary of hundreds would multiply the counters.
const MaxThemes = 40

// Negators are the words that negate a match two words or less after them,
// in the languages of the default dictionary; a configuration may add more.
var Negators = []string{
	"not", "no", "never", "nothing", "nobody", "none", "without", "isnt", "wasnt", "arent", "werent", "dont", "didnt", "doesnt", "cant", "couldnt", "wont", "hardly",
	"nunca", "nada", "nadie", "sin", "jamas", // es (no: above)
	"nicht", "kein", "keine", "keinen", "nie", "niemals", "ohne", // de
	"pas", "jamais", "aucun", "aucune", "sans", "rien", // fr
	"nao", "nem", "sem", // pt
}

// New compiles themes; negators adds to Negators.
func New(themes []Theme, negators []string) (*Dictionary, error) {
	if len(themes) > MaxThemes {
		return nil, fmt.Errorf("themes: %d themes, at most %d", len(themes), MaxThemes)
	}
	d := &Dictionary{negators: map[string]bool{}}
	for _, n := range append(slices.Clone(Negators), negators...) {
		for _, w := range tokenize(n) {
			d.negators[w.text] = true
		}
	}
	seen := map[string]bool{}
	for i, t := range themes {
		if !validName(t.Name) {
			return nil, fmt.Errorf("themes[%d].name %q: want 1 to 32 of a-z 0-9 - _", i, t.Name)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("themes[%d].name %q: named twice", i, t.Name)
		}
		seen[t.Name] = true
		if t.Label == "" {
			t.Label = t.Name
		}
		if len(t.Terms) == 0 {
			return nil, fmt.Errorf("themes[%d] (%s): no terms", i, t.Name)
		}
		c := compiled{Theme: t}
		for j, term := range t.Terms {
			var ws []word
			// A hyphenated field is a phrase, as the comment's words are
			// cut: "call-back*" is "call back*".
			for _, f := range strings.Fields(term) {
				stem := strings.HasSuffix(f, "*")
				toks := tokenize(strings.TrimSuffix(f, "*"))
				if len(toks) == 0 || (stem && len([]rune(toks[len(toks)-1].text)) < 3) {
					return nil, fmt.Errorf("themes[%d] (%s).terms[%d] %q: %q has no word to match (a stem needs 3 letters before *)", i, t.Name, j, term, f)
				}
				for k, tk := range toks {
					ws = append(ws, word{text: tk.text, stem: stem && k == len(toks)-1})
				}
			}
			if len(ws) == 0 {
				return nil, fmt.Errorf("themes[%d] (%s).terms[%d]: empty", i, t.Name, j)
			}
			c.terms = append(c.terms, ws)
		}
		d.themes = append(d.themes, c)
	}
	return d, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Themes lists the dictionary's themes in their order.
func (d *Dictionary) Themes() []Theme {
	out := make([]Theme, len(d.themes))
	for i, t := range d.themes {
		out[i] = t.Theme
	}
	return out
}

// Label returns a theme's label ("" for a name the dictionary lacks).
func (d *Dictionary) Label(name string) string {
	for _, t := range d.themes {
		if t.Name == name {
			return t.Label
		}
	}
	return ""
}

// token is one word of a comment: its folded text, its text as written
// (the evidence), where that stands in the comment (bytes), and whether a
// clause mark comes right before it.
type token struct {
	text, orig  string
	start, end  int
	breakBefore bool
}

// folds hands out the chains that fold a word: a transform.Chain keeps
// state between calls, so one chain shared by the goroutines recording
// batches would corrupt its buffers (and panic).
var folds = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func tokenize(s string) []token {
	fold := folds.Get().(transform.Transformer)
	defer folds.Put(fold)
	var out []token
	var cur, orig strings.Builder
	brk := false
	start := 0 // the byte where the current word starts
	flush := func(end int) {
		if cur.Len() > 0 {
			folded := strings.ToLower(cur.String())
			// Only a word with a letter beyond ASCII can carry an accent:
			// most words skip the Unicode normalisation.
			if !isASCII(folded) {
				if f, _, err := transform.String(fold, folded); err == nil {
					folded = f
				}
			}
			out = append(out, token{text: folded, orig: orig.String(), start: start, end: end, breakBefore: brk})
			brk = false
		}
		cur.Reset()
		orig.Reset()
	}
	for i, r := range s {
		_, size := utf8.DecodeRuneInString(s[i:])
		next, _ := utf8.DecodeRuneInString(s[i+size:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if cur.Len() == 0 {
				start = i
			}
			cur.WriteRune(r)
			orig.WriteRune(r)
		case (r == '\'' || r == '’') && utf8.RuneCountInString(cur.String()) > 2 && unicode.IsLetter(next):
			// "didn't" is one word, "didnt"; after one or two letters it is
			// an elision, two words: "d'attente", "l'agent", "it's".
			orig.WriteRune(r)
		default:
			flush(i)
			if strings.ContainsRune(".,;:!?¿¡", r) {
				brk = true
			}
		}
	}
	flush(len(s))
	return out
}

// Match returns the themes of a comment, in the dictionary's order, each
// with its evidence.
func (d *Dictionary) Match(comment string) []Match {
	var out []Match
	d.find(comment, func(theme int, toks []token) {
		t := d.themes[theme].Name
		if len(out) == 0 || out[len(out)-1].Theme != t {
			out = append(out, Match{Theme: t})
		}
		m := &out[len(out)-1]
		for _, tk := range toks {
			m.Words = append(m.Words, tk.orig)
		}
	})
	for i := range out {
		out[i].Words = dedupe(out[i].Words)
	}
	return out
}

// Span is where one match of a theme's term stands in a comment: the
// bytes comment[Start:End], a phrase whole with what separates its words.
type Span struct {
	Theme      string
	Start, End int
}

// Spans returns every match of every theme in a comment, by position
// (then shortest first), so the evidence can be marked where it stands:
// the words of Match, each at its own place, negated ones left out. Spans
// of different terms may overlap ("charged" and "charged twice").
func (d *Dictionary) Spans(comment string) []Span {
	var out []Span
	d.find(comment, func(theme int, toks []token) {
		out = append(out, Span{Theme: d.themes[theme].Name, Start: toks[0].start, End: toks[len(toks)-1].end})
	})
	slices.SortStableFunc(out, func(x, y Span) int {
		if x.Start != y.Start {
			return x.Start - y.Start
		}
		return x.End - y.End
	})
	return out
}

// find calls found for each match of a term in comment, theme by theme in
// the dictionary's order, with the matched words.
func (d *Dictionary) find(comment string, found func(theme int, toks []token)) {
	if d == nil || comment == "" {
		return
	}
	toks := tokenize(comment)
	for ti, t := range d.themes {
		for i := range toks {
			for _, term := range t.terms {
				if !matchAt(toks, i, term) {
					continue
				}
				if t.Negatable && d.negated(toks, i) {
					continue
				}
				found(ti, toks[i:i+len(term)])
			}
		}
	}
}

// Names returns only the themes' names of Match, sorted (the order a
// response's themes are stored in), nil when none match.
func (d *Dictionary) Names(comment string) []string {
	// The engines call this for every commented answer: no evidence
	// words, only which themes matched.
	var out []string
	d.find(comment, func(theme int, _ []token) {
		if t := d.themes[theme].Name; len(out) == 0 || out[len(out)-1] != t {
			out = append(out, t)
		}
	})
	slices.Sort(out)
	return out
}

func matchAt(toks []token, i int, term []word) bool {
	if i+len(term) > len(toks) {
		return false
	}
	for k, w := range term {
		tk := toks[i+k]
		if k > 0 && tk.breakBefore {
			return false // a phrase does not run across a clause mark
		}
		if w.stem && !strings.HasPrefix(tk.text, w.text) || !w.stem && tk.text != w.text {
			return false
		}
	}
	return true
}

// negated reports whether one of the two words before toks[i] is a
// negator, with no clause mark between.
func (d *Dictionary) negated(toks []token, i int) bool {
	for back := 1; back <= 2 && i-back >= 0; back++ {
		if toks[i-back+1].breakBefore {
			return false
		}
		if d.negators[toks[i-back].text] {
			return true
		}
	}
	return false
}

func dedupe(ws []string) []string {
	seen := map[string]bool{}
	out := ws[:0]
	for _, w := range ws {
		k := strings.ToLower(w)
		if !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	return out
}
