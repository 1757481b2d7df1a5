package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pulseboard/pulseboard/internal/redact"
	"github.com/pulseboard/pulseboard/internal/store"
)

// message is what a chat receiver shows of an event, before it is encoded
// for one chat (slack.go, teams.go). Every string in it is plain text, user
// data included (team and agent names, comments, rule titles): the
// encoders escape all of it for their format, so no field can carry markup
// into a message.
//
// It is made for a phone: the key figure leads the title, lines are short,
// and the details a supervisor needs to decide (who, where, how long ago)
// come before anything else.
type message struct {
	// Summary is the one line a notification shows.
	Summary string
	// Title is the first line, in bold: the key figure first.
	Title string
	// Tone colours the title where the chat can: "attention" (a detractor,
	// an alert raised), "good" (resolved), "" neutral.
	Tone string
	// Quote is the customer's comment, redacted; "" for none.
	Quote string
	// Sections are labelled facts; Grid ones may be laid out side by side.
	Sections []section
	// Link is the message's one button; nil for none.
	Link *link
	// Note is small print at the end.
	Note string
}

type section struct {
	Heading string
	Facts   []fact
	Grid    bool
}

type fact struct{ Label, Value string }

type link struct{ Label, URL string }

// Limits of what a message carries.
const (
	// maxQuote bounds the comment: a phone shows a few lines, and the
	// inbox has the rest.
	maxQuote = 500
	// maxListed bounds the groups a digest lists per breakdown.
	maxListed = 15
)

// messageEnv is what rendering needs besides the event.
type messageEnv struct {
	now time.Time
	loc *time.Location
	// claim is the claim link of a follow-up; nil: no links (public_url
	// is not set).
	claim func(id string) string
	// queue labels a queue by its name.
	queue func(name string) string
}

// clip shortens s to n characters, with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// marshalText encodes a chat message as JSON without HTML escapes: "<"
// stays "<", not "\u003c", so the bodies (and the dead letters an operator
// reads) show the text as the chat will. JSON needs no HTML escaping, and
// the chats decode both alike.
func marshalText(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// noControls drops control characters but newlines: they have no place
// in a chat message, and some (a bell, an escape) mean something to a
// terminal that shows the log or the JSON.
func noControls(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// oneLine folds newlines and tabs into spaces, for titles and summaries.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// FormatAge is a duration as a person reads it, short enough to read
// across a room: "4 min", "2 h 05", "3 d 4 h". Messages, boards and the
// inbox all write ages with it.
func FormatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	m := int(d / time.Minute)
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		return fmt.Sprintf("%d h %02d", m/60, m%60)
	default:
		return fmt.Sprintf("%d d %d h", m/(24*60), m%(24*60)/60)
	}
}

// score is an NPS as boards show it: "+32", "−5" (a minus sign), "0", and
// "—" when there were no answers.
func score(v *float64) string {
	if v == nil {
		return "—"
	}
	r := math.Round(*v)
	switch {
	case r > 0:
		return fmt.Sprintf("+%.0f", r)
	case r < 0:
		return fmt.Sprintf("−%.0f", -r)
	}
	return "0"
}

func scoreOf(v float64) string { return score(&v) }

// scope names an alert's filters: "team billing, channel phone"; "the
// whole center" without any.
// Scope names the alert's group: "team billing", or "the whole center".
func (t ThemeAlert) Scope() string { return scope(t.Filters) }

func scope(filters map[store.Dimension]string) string {
	if len(filters) == 0 {
		return "the whole center"
	}
	var parts []string
	for _, d := range slices.Sorted(maps.Keys(filters)) {
		parts = append(parts, string(d)+" "+filters[d])
	}
	return strings.Join(parts, ", ")
}

func (env messageEnv) detractor(ev DetractorEvent) message {
	f := ev.FollowUp
	ago := FormatAge(env.now.Sub(f.At))
	comment := clip(strings.TrimSpace(redact.Comment(f.Comment)), maxQuote)
	m := message{
		Title: fmt.Sprintf("Detractor %d/10 · %s ago", f.Score, ago),
		Tone:  "attention",
		Quote: comment,
	}
	where := f.Team
	if where == "" {
		where = f.Channel
	}
	m.Summary = fmt.Sprintf("Detractor %d/10 · %s", f.Score, where)
	if comment != "" {
		m.Summary += ": " + clip(oneLine(comment), 100)
	}
	var facts []fact
	for _, x := range []fact{{"Channel", f.Channel}, {"Journey", f.Journey}, {"Team", f.Team}, {"Agent", f.Agent}} {
		if x.Value != "" {
			facts = append(facts, x)
		}
	}
	facts = append(facts, fact{"Answered", f.At.In(env.loc).Format("15:04") + " (" + ago + " ago)"})
	due := fact{"Due", f.Due.In(env.loc).Format("Mon 15:04")}
	if f.Due.Before(env.now) {
		due.Value += " (overdue)"
	}
	facts = append(facts, due)
	if f.Queue != "" && env.queue != nil {
		facts = append(facts, fact{"Queue", env.queue(f.Queue)})
	}
	m.Sections = []section{{Facts: facts, Grid: true}}
	if env.claim != nil {
		m.Link = &link{Label: "Claim it", URL: env.claim(f.ID)}
		m.Note = "Follow-up " + clip(f.ID, 80) + " · the link asks your name once"
	} else {
		m.Note = "Follow-up " + clip(f.ID, 80) + " · claim it in the Pulseboard inbox"
	}
	return m
}

func (env messageEnv) threshold(ev ThresholdEvent) message {
	a := ev.Alert
	raised := ev.Event == EventThresholdRaised
	m := message{Tone: "attention"}
	if raised {
		m.Title = fmt.Sprintf("%s, below %s · %s", a.Figure(), a.LevelText(), oneLine(a.Title))
		m.Summary = m.Title
	} else {
		m.Tone = "good"
		m.Title = fmt.Sprintf("%s, back at %s or above · %s", a.Figure(), a.LevelText(), oneLine(a.Title))
		m.Summary = m.Title
	}
	facts := []fact{{"Window", a.Window}}
	switch a.metric() {
	case MetricResponseRate:
		facts = append(facts, fact{"Offered", fmt.Sprint(a.Whole)}, fact{"Answered", fmt.Sprint(a.Part)})
	case MetricCSAT:
		facts = append(facts, fact{"CSAT answers", fmt.Sprint(a.Whole)}, fact{"Satisfied (4–5)", fmt.Sprint(a.Part)})
	default:
		facts = append(facts, fact{"Answers", fmt.Sprint(a.Responses)})
	}
	facts = append(facts, fact{"Scope", scope(a.Filters)})
	if raised {
		facts = append(facts, fact{"Since", a.Since.In(env.loc).Format("Mon 15:04")})
	} else {
		facts = append(facts, fact{"Lasted", FormatAge(env.now.Sub(a.Since))})
	}
	m.Sections = []section{{Facts: facts, Grid: true}}
	return m
}

func (env messageEnv) digest(ev DigestEvent) message {
	from := ev.From.In(env.loc)
	period := "Yesterday, " + from.Format("Mon 2 Jan")
	if ev.Event == EventDigestWeekly {
		period = "Week of " + from.Format("Mon 2 Jan")
	}
	o := ev.Overall
	m := message{
		Title: fmt.Sprintf("NPS %s (n=%d) · %s", score(o.NPS), o.Responses, period),
	}
	m.Summary = m.Title
	fu := ev.FollowUps
	inSLA := "—"
	if fu.SLAShare != nil {
		inSLA = fmt.Sprintf("%.0f%%", math.Round(*fu.SLAShare*100))
	}
	m.Sections = append(m.Sections, section{Heading: "Follow-ups", Grid: true, Facts: []fact{
		{"Opened", fmt.Sprint(fu.Opened)},
		{"Resolved", fmt.Sprintf("%d (%s in SLA)", fu.Resolved, inSLA)},
		{"Open now", fmt.Sprint(fu.OpenNow)},
		{"Overdue now", fmt.Sprint(fu.OverdueNow)},
	}})
	for _, b := range []struct {
		heading string
		dim     store.Dimension
		groups  []DigestGroup
	}{{"Teams", store.Team, ev.Teams}, {"Channels", store.Channel, ev.Channels}} {
		if len(b.groups) == 0 {
			continue
		}
		// Worst first: the phone's first lines say where to look.
		gs := slices.Clone(b.groups)
		slices.SortStableFunc(gs, func(x, y DigestGroup) int {
			switch {
			case x.NPS == nil && y.NPS == nil:
				return strings.Compare(x.Key[b.dim], y.Key[b.dim])
			case x.NPS == nil:
				return 1
			case y.NPS == nil:
				return -1
			case *x.NPS != *y.NPS:
				if *x.NPS < *y.NPS {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Key[b.dim], y.Key[b.dim])
		})
		s := section{Heading: b.heading + ", worst first"}
		for i, g := range gs {
			if i == maxListed {
				s.Facts = append(s.Facts, fact{"…", fmt.Sprintf("and %d more", len(gs)-maxListed)})
				break
			}
			v := fmt.Sprintf("%s (n=%d)", score(g.NPS), g.Responses)
			if g.LowSample {
				v += " low sample"
			}
			s.Facts = append(s.Facts, fact{g.Key[b.dim], v})
		}
		m.Sections = append(m.Sections, s)
	}
	if len(ev.Alerts) > 0 {
		s := section{Heading: "Alerts raised now"}
		for i, a := range ev.Alerts {
			if i == maxListed {
				s.Facts = append(s.Facts, fact{"…", fmt.Sprintf("and %d more", len(ev.Alerts)-maxListed)})
				break
			}
			s.Facts = append(s.Facts, fact{oneLine(a.Title), fmt.Sprintf("%s, below %s", a.Figure(), a.LevelText())})
		}
		m.Sections = append(m.Sections, s)
	}
	return m
}

func (env messageEnv) reassigned(ev ReassignedEvent) message {
	f := ev.FollowUp
	q := f.Queue
	if env.queue != nil {
		q = env.queue(q)
	}
	m := message{Title: fmt.Sprintf("Detractor %d/10 moved to %s", f.Score, q)}
	m.Summary = m.Title
	facts := []fact{}
	if f.ClaimedBy != "" {
		facts = append(facts, fact{"Claimed by", f.ClaimedBy})
	}
	for _, x := range []fact{{"Team", f.Team}, {"Channel", f.Channel}} {
		if x.Value != "" {
			facts = append(facts, x)
		}
	}
	facts = append(facts, fact{"Due", f.Due.In(env.loc).Format("Mon 15:04")})
	m.Sections = []section{{Facts: facts, Grid: true}}
	m.Quote = clip(strings.TrimSpace(redact.Comment(f.Comment)), maxQuote)
	if env.claim != nil && f.Status == Open {
		m.Link = &link{Label: "Claim it", URL: env.claim(f.ID)}
	}
	m.Note = "Follow-up " + clip(f.ID, 80)
	return m
}

// messageOf is the message of an event body; false for an event chat
// receivers do not know.
func (env messageEnv) messageOf(body any) (message, bool) {
	switch ev := body.(type) {
	case DetractorEvent:
		return env.detractor(ev), true
	case ThresholdEvent:
		return env.threshold(ev), true
	case ThemeEvent:
		return env.theme(ev), true
	case DigestEvent:
		return env.digest(ev), true
	case ReassignedEvent:
		return env.reassigned(ev), true
	}
	return message{}, false
}
