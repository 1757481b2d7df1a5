package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redact"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/views"
)

// The console's answers list: the newest answers of one group (an agent, a
// team, anything the filters name), read from the engine's change log, the
// only place answers are kept one by one. No engine keeps an index of
// answers by dimension, so the console reads the log's newest entries and
// filters them, and says how far back that reached.

// Bounds of one read of the change log. The log is read newest first in
// growing reads (historyFirst entries, then about eight times as many)
// until it holds enough answers of the group, reaches its start, or has
// read historyMaxChanges answers: one batch entry may hold a thousand
// answers (an import), so the first read is small and the next is sized
// from the answers per entry so far.
// The bound is the cost of a view whose answers the log no longer holds:
// on Redis 20,000 changes are about 6 MB (some 300 bytes a change with the
// default rollups, measured on demo answers) read on every refresh of an open
// console (every consolePollSeconds), which a few supervisors' tabs bear.
const (
	historyFirst      = 16
	historyMaxChanges = 20_000
)

// answerScan is what one pass over the log found.
type answerScan struct {
	found []store.Answer
	// scanned is how many changes were read; since is when the oldest of
	// them was recorded (zero when the engine's positions carry no time:
	// the memory engine); whole is true when the read reached the log's
	// start.
	scanned int
	since   time.Time
	whole   bool
}

// scanAnswers reads the change log for the newest answers that keep passes,
// at most limit; newer versions of an answer hide older ones.
func (a *API) scanAnswers(ctx context.Context, limit int, prefilter [][]byte, keep func(store.Answer) bool) (answerScan, error) {
	n := historyFirst
	for {
		entries, err := a.ChangeLog.History(ctx, n)
		if err != nil {
			return answerScan{}, fmt.Errorf("read the change log for recent answers: %w", err)
		}
		scan := scanEntries(entries, limit, prefilter, keep)
		scan.whole = len(entries) < n
		if len(entries) > 0 && entries[0].Pos.Ms > 0 {
			scan.since = time.UnixMilli(int64(entries[0].Pos.Ms))
		}
		if len(scan.found) >= limit || scan.whole || scan.scanned >= historyMaxChanges {
			return scan, nil
		}
		perEntry := max(1, scan.scanned/max(1, len(entries)))
		n = min(n*8, max(n+1, historyMaxChanges/perEntry))
	}
}

// scanEntries walks entries newest first. A change whose payload lacks one
// of the prefilter strings is skipped without decoding, unless it is an
// update (its id then hides the older versions).
func scanEntries(entries []store.LogEntry, limit int, prefilter [][]byte, keep func(store.Answer) bool) answerScan {
	var scan answerScan
	seen := map[string]bool{}
	for i := len(entries) - 1; i >= 0 && len(scan.found) < limit; i-- {
		ch := entries[i].Changes
		for j := len(ch) - 1; j >= 0 && len(scan.found) < limit; j-- {
			c := ch[j]
			scan.scanned++
			at := time.Unix(c.New.At, 0).UTC()
			if c.Old == nil && !containsAll(c.Payload, prefilter) {
				continue
			}
			var p store.Payload
			if err := json.Unmarshal(c.Payload, &p); err != nil {
				continue // payloads are written by the engine; a bad one is not worth a page
			}
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			if ans := (store.Answer{Payload: p, At: at}); p.HasScore() && keep(ans) {
				scan.found = append(scan.found, ans)
			}
		}
	}
	return scan
}

func containsAll(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if !bytes.Contains(b, s) {
			return false
		}
	}
	return true
}

// consoleAnswers lists the view's newest answers in its window, with their
// comments redacted as boards redact them, and agent names only for an
// audience that may see them.
//
// total is how many answers the view has in the window (its counters),
// so the page can say how many of them the log could still list.
func (a *API) consoleAnswers(ctx context.Context, v consoleView, total int64, now time.Time, aud consoleAudience) (views.ConsoleAnswers, error) {
	q := v.Query
	// A payload holds "team":"billing" for team=billing, and
	// "region":"eu" inside its "dims" object for an operator's dimension:
	// dimension values need no JSON escaping (ingest allows letters,
	// digits, space, -_.@). Its themes are a list, "themes":["billing",…]:
	// the name quoted somewhere in the payload is the prefilter (a comment
	// may hold it too; keep decides), theme names need no escaping either.
	var prefilter [][]byte
	for d, val := range q.Filters {
		if d == store.Theme {
			prefilter = append(prefilter, []byte(`"themes":[`), []byte(fmt.Sprintf("%q", val)))
			continue
		}
		prefilter = append(prefilter, []byte(fmt.Sprintf("%q:%q", string(d), val)))
	}
	keep := func(ans store.Answer) bool {
		if !q.Span.Contains(ans.At) {
			return false
		}
		dims := ans.Payload.Dims()
		for d, val := range q.Filters {
			if d == store.Theme {
				// The themes recorded with the answer, which are the
				// groups it counts in (not today's dictionary's).
				if !slices.Contains(ans.Payload.Themes, val) {
					return false
				}
				continue
			}
			if dims.Get(d) != val {
				return false
			}
		}
		return v.Answer == "" || ans.ID == v.Answer
	}
	limit := consoleAnswersShown
	if v.Answer != "" {
		limit = 1
	}
	scan, err := a.scanAnswers(ctx, limit, prefilter, keep)
	if err != nil {
		return views.ConsoleAnswers{}, err
	}
	// Newest answered first: the log's order is the order they were
	// recorded in, which a late or imported answer does not follow.
	slices.SortStableFunc(scan.found, func(x, y store.Answer) int { return y.At.Compare(x.At) })
	loc := a.Calendar.Location()
	out := views.ConsoleAnswers{BackHref: consoleHref(v.Params, v.Sort, "")}
	cols := a.answerDims(aud)
	for _, d := range cols {
		out.Dims = append(out.Dims, string(d))
	}
	for _, ans := range scan.found {
		out.Answers = append(out.Answers, a.answerView(ans, v, cols, now))
	}
	recorded := ""
	if !scan.since.IsZero() {
		recorded = " (recorded since " + scan.since.In(loc).Format("Jan 2 15:04") + ")"
	}
	switch {
	case v.Answer != "" && len(out.Answers) == 0:
		out.Note = fmt.Sprintf("Answer %q is not among the %s changes this server still keeps in its change log%s for this view.", v.Answer, fmtCount(scan.scanned), recorded)
	case v.Answer != "":
		out.Detail = &out.Answers[0]
		out.Answers = nil
	case int64(len(scan.found)) >= total:
		out.Note = fmt.Sprintf("All %s answers of this view in the window.", fmtCount(int(total)))
	case len(scan.found) >= limit:
		out.Note = fmt.Sprintf("The %d newest of %s answers of this view in the window.", limit, fmtCount(int(total)))
	default:
		// The log keeps the newest changes by when they were recorded, not
		// by when they were answered: say what it could and could not list.
		out.Note = fmt.Sprintf("%s of %s answers of this view in the window are listed: the others were recorded before the oldest of the %s changes this server still keeps in its change log%s.",
			fmtCount(len(scan.found)), fmtCount(int(total)), fmtCount(scan.scanned), recorded)
	}
	return out, nil
}

func fmtCount(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// answerDims are the dimension columns of the answers: every dimension a
// rollup counts, agent only for an audience that may see agent names;
// theme has a column of its own (an answer has several).
func (a *API) answerDims(aud consoleAudience) []store.Dimension {
	var out []store.Dimension
	for _, d := range a.consoleDims() {
		if d == store.Theme {
			continue
		}
		if d != store.Agent || aud.showAgents {
			out = append(out, d)
		}
	}
	return out
}

// answerView formats one answer: redacted comment, and its values of the
// columns cols.
func (a *API) answerView(ans store.Answer, v consoleView, cols []store.Dimension, now time.Time) views.ConsoleAnswer {
	loc := a.Calendar.Location()
	at, today := ans.At.In(loc), now.In(loc)
	when := at.Format("Jan 2 15:04")
	if y, m, d := at.Date(); y == today.Year() && m == today.Month() && d == today.Day() {
		when = at.Format("15:04")
	}
	av := views.ConsoleAnswer{
		ID: ans.ID, At: when, AtISO: ans.At.Format(time.RFC3339), Score: ans.Score, Class: nps.ClassOf(ans.Score).String(),
		Comment: redact.Comment(ans.Comment), Tags: ans.Tags,
		Href: consoleHref(v.Params, v.Sort, ans.ID),
	}
	for _, t := range ans.Payload.Themes {
		av.Themes = append(av.Themes, a.themeLabel(t))
	}
	av.Parts = a.evidence(av.Comment, ans.Payload.Themes)
	dims := ans.Payload.Dims()
	for _, d := range cols {
		av.Dims = append(av.Dims, dims.Get(d))
	}
	return av
}

// evidence cuts a comment (already redacted: what is removed is never
// matched) where the words of its themes stand, so the page marks them.
// Only the answer's recorded themes are marked, the groups it counts in;
// overlapping matches ("charged", "charged twice") make one mark naming
// each theme once. The parts are plain text, escaped when rendered. nil
// when nothing is marked.
func (a *API) evidence(comment string, recorded []string) []views.CommentPart {
	if a.Themes == nil || len(recorded) == 0 {
		return nil
	}
	var parts []views.CommentPart
	at := 0 // the end of the last part
	for _, sp := range a.Themes.Spans(comment) {
		if !slices.Contains(recorded, sp.Theme) {
			continue
		}
		label := a.themeLabel(sp.Theme)
		if n := len(parts); n > 0 && parts[n-1].Mark && sp.Start < at {
			// Overlaps the last mark: widen it.
			if sp.End > at {
				parts[n-1].Text += comment[at:sp.End]
				at = sp.End
			}
			if !slices.Contains(strings.Split(parts[n-1].Theme, ", "), label) {
				parts[n-1].Theme += ", " + label
			}
			continue
		}
		if sp.Start > at {
			parts = append(parts, views.CommentPart{Text: comment[at:sp.Start]})
		}
		parts = append(parts, views.CommentPart{Text: comment[sp.Start:sp.End], Mark: true, Theme: label})
		at = sp.End
	}
	if len(parts) == 0 {
		return nil
	}
	if at < len(comment) {
		parts = append(parts, views.CommentPart{Text: comment[at:]})
	}
	return parts
}
