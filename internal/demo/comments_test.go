package demo

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/themes"
)

func defaultDictionary(t *testing.T) *themes.Dictionary {
	t.Helper()
	d, err := themes.New(themes.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// allSentences lists every sentence the demo writes, with where it is.
func allSentences() map[string]sentence {
	out := map[string]sentence{}
	add := func(kind string, pool byLanguage) {
		for lang, ss := range pool {
			for i, sn := range ss {
				out[fmt.Sprintf("%s/%s[%d]", kind, lang, i)] = sn
			}
		}
	}
	for theme, pool := range detractorSentences {
		add("detractor:"+theme, pool)
	}
	add("promoter", promoterSentences)
	add("passive", passiveSentences)
	return out
}

// TestSentencesMatchTheirThemes: the default dictionary finds in every
// sentence of the demo exactly the themes it says it carries (negated ones
// like "not rude at all" included), a detractor's complaint carries its
// theme, and every language has complaints of every theme.
func TestSentencesMatchTheirThemes(t *testing.T) {
	d := defaultDictionary(t)
	for where, sn := range allSentences() {
		text := sn.text
		if strings.Contains(text, "%s") {
			text = fmt.Sprintf(text, "Ana")
		}
		want := slices.Sorted(slices.Values(sn.themes))
		if got := d.Names(text); !slices.Equal(got, want) {
			t.Errorf("%s %q: the dictionary finds %v, the demo says %v", where, text, got, want)
		}
		if theme, ok := strings.CutPrefix(where, "detractor:"); ok {
			theme, _, _ = strings.Cut(theme, "/")
			if theme != noTheme && !slices.Contains(sn.themes, theme) {
				t.Errorf("%s %q is a %s complaint without the theme", where, sn.text, theme)
			}
		}
	}
	for theme, pool := range detractorSentences {
		for _, l := range languages {
			if len(pool[l.code]) == 0 {
				t.Errorf("no %s complaint in %s", theme, l.code)
			}
		}
	}
	for _, th := range themes.Default() {
		if _, ok := detractorSentences[th.Name]; !ok && th.Name != "praise" {
			t.Errorf("no complaint about %s", th.Name)
		}
	}
}

// TestThemesDriftThroughTheDay: over a simulated day, the detractors'
// comments as the real dictionary reads them follow the intended drift:
// hold time is mentioned more at the peak hours than at night, billing
// during the afternoon's incident than the rest of the day, and tech
// support's transfers in the evening than the rest of its day, each by a
// clear margin; and every comment is one of the demo's sentences.
func TestThemesDriftThroughTheDay(t *testing.T) {
	d := defaultDictionary(t)
	// known is every comment the demo can write, and its language.
	known := map[string]string{}
	for where, sn := range allSentences() {
		_, lang, _ := strings.Cut(where, "/")
		lang, _, _ = strings.Cut(lang, "[")
		known[sn.text] = lang
		if strings.Contains(sn.text, "%s") {
			for _, tm := range teams {
				for _, ag := range tm.agents {
					first, _, _ := strings.Cut(ag.name, " ")
					known[fmt.Sprintf(sn.text, first)] = lang
				}
			}
		}
	}
	g := New(7, time.UTC)
	day := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	// share counts detractors (commented or not) and those mentioning a
	// theme, per group of hours.
	type share struct{ mentions, detractors int }
	groups := map[string]*share{}
	count := func(group string, mentions bool) {
		if groups[group] == nil {
			groups[group] = &share{}
		}
		groups[group].detractors++
		if mentions {
			groups[group].mentions++
		}
	}
	languagesSeen := map[string]int{}
	for hour := range 24 {
		for i := range 6000 {
			r := g.Response(day.Add(time.Duration(hour)*time.Hour + time.Duration(i)*time.Second/2))
			if r.Comment != "" {
				lang, ok := known[r.Comment]
				if !ok {
					t.Fatalf("comment %q is none of the demo's sentences", r.Comment)
				}
				languagesSeen[lang]++
			}
			if r.Score > 6 || r.Score == store.NoScore { // CSAT alone: no detractor
				continue
			}
			names := d.Names(r.Comment)
			switch {
			case hour >= 1 && hour < 6:
				count("waiting at night", slices.Contains(names, "waiting"))
			case hour == 9 || hour == 10 || hour == 14 || hour == 15:
				count("waiting at the peak", slices.Contains(names, "waiting"))
			}
			if hour >= billingIncidentFrom && hour < billingIncidentTo {
				count("billing in the incident", slices.Contains(names, "billing"))
			} else if hour >= 8 && hour < 20 {
				count("billing the rest of the day", slices.Contains(names, "billing"))
			}
			if r.Dims.Team == eveningTransfersTeam {
				if hour >= eveningTransfersFrom && hour < eveningTransfersTo {
					count("transfers in the evening", slices.Contains(names, "transfers"))
				} else {
					count("transfers the rest of the day", slices.Contains(names, "transfers"))
				}
			}
		}
	}
	pct := func(g string) float64 { return 100 * float64(groups[g].mentions) / float64(groups[g].detractors) }
	for _, c := range []struct{ busy, quiet string }{
		{"waiting at the peak", "waiting at night"},
		{"billing in the incident", "billing the rest of the day"},
		{"transfers in the evening", "transfers the rest of the day"},
	} {
		busy, quiet := pct(c.busy), pct(c.quiet)
		t.Logf("%s %.1f%% of %d detractors, %s %.1f%% of %d", c.busy, busy, groups[c.busy].detractors, c.quiet, quiet, groups[c.quiet].detractors)
		// Shares of all detractors: half of them comment.
		if busy < 1.6*quiet || busy-quiet < 5 {
			t.Errorf("%s %.1f%% against %s %.1f%%: no clear drift", c.busy, busy, c.quiet, quiet)
		}
	}
	// Mostly English, and every other language.
	total := 0
	for _, n := range languagesSeen {
		total += n
	}
	if len(languagesSeen) != len(languages) || languagesSeen["en"] < total*2/3 || languagesSeen["en"] > total*5/6 {
		t.Errorf("comments by language: %v", languagesSeen)
	}
}
