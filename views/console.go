package views

import (
	"fmt"
	"strings"

	"github.com/pulseboard/pulseboard/internal/board"
)

// ConsolePage is the supervisor console: the form that picks a view, and
// the view's results.
type ConsolePage struct {
	Title string
	// Error is what was wrong with the address; the results are empty then.
	Error       string
	Form        ConsoleForm
	Results     ConsoleResults
	PollSeconds int
	// SignIn, when set, is the sign-in address that comes back to this
	// view: the reader is anonymous (public mode) and sees no agent names
	// until signed in.
	SignIn string
}

// ConsoleForm picks a window or a range, a breakdown and filters.
type ConsoleForm struct {
	Windows []ConsoleOptionGroup
	// Range is set when the view is a from/to range; From and To are its
	// edges for datetime-local fields (the current window's span
	// otherwise, to start a range from), in the center's zone, Zone.
	Range          bool
	From, To, Zone string
	By             []ConsoleOption
	Filters        []ConsoleFilter
	Sort           string
}

// ConsoleOptionGroup is an <optgroup>.
type ConsoleOptionGroup struct {
	Label   string
	Options []ConsoleOption
}

// ConsoleOption is one <option>.
type ConsoleOption struct {
	Value, Label string
	Selected     bool
}

// ConsoleFilter is one dimension's filter with the values seen in the
// window: a select, or a text field with suggestions when there are many.
type ConsoleFilter struct {
	Name   string
	Value  string
	Values []string
	// Labels, when set, are what the options show for Values (a theme's
	// label for its name).
	Labels   []string
	Datalist bool
}

// optionLabel is what a filter's i-th option shows.
func (f ConsoleFilter) optionLabel(i int) string {
	if i < len(f.Labels) {
		return f.Labels[i]
	}
	return f.Values[i]
}

// ConsoleLink is a link with a test id.
type ConsoleLink struct {
	Label, Href, Test string
}

// ConsoleColumn is a table header; Href sorts by it, Sort is its
// aria-sort ("ascending", "descending" or "").
type ConsoleColumn struct {
	Label, Key, Href, Sort string
	// Title explains the column (a tooltip; the page says it in words
	// too).
	Title string
}

// ConsoleResults are the part of the page the poll refreshes.
type ConsoleResults struct {
	Label, Range, Updated string
	// Coarse says, when an edge of the span was widened, what that means;
	// Label then names the span read, and Range is not shown.
	Coarse              string
	Filters             []ConsoleLink // the current filters, each linking to the view without it
	Columns             []ConsoleColumn
	Rows                []ConsoleRow
	Empty               string
	ExportHref, APIHref string
	SparkLabel          string
	Answers             *ConsoleAnswers
	// Themed is set when the view names theme (in by or a filter): the
	// rows count mentions, and show their NPS impact instead of the
	// shares; Themes says how to read them.
	Themed bool
	Themes *ConsoleThemes
	// CSAT and Rates are set when a group of the view has CSAT answers, or
	// had surveys offered: the table then shows their columns.
	CSAT, Rates bool
}

// ConsoleThemes says how to read a view's theme rows: Text that they
// overlap (set when the breakdown holds theme), Impact what the impact
// column is and what N it divides by, Answers that N when the view has a
// single scope.
type ConsoleThemes struct {
	Overlap      bool
	Text, Impact string
	Answers      int64
}

// ConsoleRow is one group. NPS, CILow and CIHigh are the API's numbers as
// text (for data attributes); Score, Margin and Interval are how the page
// shows them.
type ConsoleRow struct {
	Test                            string
	Keys                            []ConsoleLink
	Score, Margin, Interval         string
	NPS, CILow, CIHigh              string
	Band                            board.Band
	Responses                       int64
	LowSample                       bool
	Promoters, Passives, Detractors float64
	Points                          []board.Point
	Drills                          []ConsoleLink
	// In a theme view: the mentions by detractors and by passives, and
	// the NPS impact, shown (one decimal) and exact (ImpactValue, for a
	// data attribute); "" when it could not be counted.
	DetractorsN, PassivesN int64
	Impact, ImpactValue    string
	// CSAT is the satisfied share of the group's CSAT answers and Rate the
	// answered share of the surveys offered to it, each with its interval
	// (board.ShareFigure: "—" without answers or offers).
	CSAT, Rate board.ShareFigure
}

// ConsoleAnswers is the list of a view's recent answers, or one of them.
// Dims names the dimension columns (the schema's, in its order; agent only
// for an audience that may see agent names), which every answer's Dims
// follow.
type ConsoleAnswers struct {
	Answers  []ConsoleAnswer
	Detail   *ConsoleAnswer
	Note     string
	Dims     []string
	BackHref string
}

// ConsoleAnswer is one answer, its comment already redacted.
type ConsoleAnswer struct {
	ID, At, AtISO string
	Score         int
	Class         string
	Dims          []string
	Comment       string
	// Parts are Comment cut where its themes' words stand: the marked
	// parts are the evidence. Each part is text, escaped when rendered.
	Parts  []CommentPart
	Themes []string // the labels of the answer's themes
	Tags   []string
	Href   string
}

// CommentPart is a piece of a comment; Mark says it is a theme's evidence,
// Theme names which (the labels, when words of several overlap).
type CommentPart struct {
	Text  string
	Mark  bool
	Theme string
}

// sparkText says a sparkline in words for screen readers: its first and
// last scores.
func sparkText(points []board.Point, label string) string {
	var first, last string
	for _, p := range points {
		if p.NPS != nil {
			if first == "" {
				first = board.FormatScore(*p.NPS)
			}
			last = board.FormatScore(*p.NPS)
		}
	}
	if first == "" {
		return "trend: no answers"
	}
	return fmt.Sprintf("trend over %s: from %s to %s", label, first, last)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func joinTags(tags []string) string { return strings.Join(tags, ", ") }

// pluralWord is "1 answer", "2 answers" without the number.
func pluralWord(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
