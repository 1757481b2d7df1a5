package themes

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestDefaultDictionary: real-looking comments in five languages, each
// with the themes a supervisor would file it under.
func TestDefaultDictionary(t *testing.T) {
	d, err := New(Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		comment string
		want    []string
	}{
		{"Waited 25 minutes on hold and got cut off.", []string{"waiting"}},
		{"Nobody called me back as promised.", []string{"callbacks"}},
		{"I was transferred three times and had to explain everything again", []string{"transfers"}},
		{"Charged twice and nobody can tell me why.", []string{"billing", "unresolved"}},
		{"The agent was rude and hung up on me", []string{"rudeness"}},
		{"Still not fixed after two calls.", []string{"unresolved"}},
		{"Maria was so helpful and friendly, thank you!", []string{"praise"}},
		// Negation: the evaluative themes ignore a negated word.
		{"The agent was not rude at all, just slow to find my invoice", []string{"billing"}},
		{"Honestly not great. I waited forever", []string{"waiting"}},
		{"No wait, quick and easy", []string{"praise"}},
		// A clause mark stops the negation: "no" is about something else.
		{"No, the agent was rude.", []string{"rudeness"}},
		// Phrases do not run across a clause mark.
		{"I asked them to call. Back then it worked", nil},
		// Spanish, German, French, Portuguese, with and without accents.
		{"Esperé 40 minutos en espera y el agente fue muy grosero", []string{"waiting", "rudeness"}},
		{"Nadie me devolvió la llamada y la factura sigue sin corregir", []string{"callbacks", "billing", "unresolved"}},
		{"Ewig in der Warteschleife, dann dreimal weitergeleitet", []string{"waiting", "transfers"}},
		{"Die Mitarbeiterin war nicht unfreundlich, aber das Problem ist immer noch nicht gelöst", []string{"unresolved"}},
		{"Très long temps d'attente, et toujours pas de remboursement", []string{"waiting", "billing", "unresolved"}},
		{"Atendente muito educado e rápido, obrigado", []string{"praise"}},
		// Words inside other words do not count unless the term is a stem.
		{"I feel the fees were explained well", []string{"billing"}},
		// A transfer that did not happen is not a complaint about transfers.
		{"Clear answer, no transfers. Great.", []string{"praise"}},
		{"Rápido y sin transferencias", []string{"praise"}},
		{"", nil},
	} {
		want := slices.Sorted(slices.Values(tc.want))
		if tc.want == nil {
			want = nil
		}
		if got := d.Names(tc.comment); !slices.Equal(got, want) {
			t.Errorf("%q: %v, want %v (evidence %+v)", tc.comment, got, tc.want, d.Match(tc.comment))
		}
	}
}

func TestEvidence(t *testing.T) {
	d, _ := New(Default(), nil)
	ms := d.Match("They CHARGED me twice, then the refund... waited, WAITED")
	var billing, waiting []string
	for _, m := range ms {
		switch m.Theme {
		case "billing":
			billing = m.Words
		case "waiting":
			waiting = m.Words
		}
	}
	if !slices.Equal(billing, []string{"CHARGED", "refund"}) || !slices.Equal(waiting, []string{"waited"}) {
		t.Fatalf("evidence: billing %v, waiting %v: the words as written, each once", billing, waiting)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		themes []Theme
		want   string
	}{
		{[]Theme{{Name: "Bad Name", Terms: []string{"x"}}}, "name"},
		{[]Theme{{Name: "a", Terms: []string{"x"}}, {Name: "a", Terms: []string{"y"}}}, "twice"},
		{[]Theme{{Name: "a"}}, "no terms"},
		{[]Theme{{Name: "a", Terms: []string{"wa*"}}}, "3 letters"},
		{[]Theme{{Name: "a", Terms: []string{"call !!"}}}, "no word"},
		{make([]Theme, MaxThemes+1), "at most"},
	} {
		_, err := New(tc.themes, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %q", tc.themes, err, tc.want)
		}
	}
	if _, err := New(Default(), []string{"nope"}); err != nil {
		t.Fatal(err)
	}
}

// TestMatchConcurrently: engines match the comments of concurrent batches
// with one dictionary. A folding transformer shared between goroutines
// corrupted its buffers and panicked (found by the config tests, which
// compile dictionaries in parallel).
func TestMatchConcurrently(t *testing.T) {
	d, err := New(Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	comments := []string{"Esperé 40 minutos en espera", "Très long temps d'attente", "charged twice", "nicht unfreundlich"}
	want := make([][]string, len(comments))
	for i, c := range comments {
		want[i] = d.Names(c)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (g + i) % len(comments)
				if got := d.Names(comments[k]); !slices.Equal(got, want[k]) {
					t.Errorf("%q: %v, want %v", comments[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkNames: matching one comment, the cost the engine adds to each
// answer that has one.
func BenchmarkNames(b *testing.B) {
	d, err := New(Default(), nil)
	if err != nil {
		b.Fatal(err)
	}
	comments := []string{
		"I waited on hold for ages and then the agent was rude and transferred me twice",
		"great service, thank you",
		"Rechnung falsch, unfreundlich am Telefon",
		"Très long temps d'attente, et toujours pas de remboursement",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Names(comments[i%len(comments)])
	}
}

// TestSpans: each span is where a theme's term stands in the comment as
// written (bytes, a phrase whole with what separates its words), so the
// console can mark exactly the evidence; negated words are not evidence.
func TestSpans(t *testing.T) {
	d, _ := New(Default(), nil)
	for _, tc := range []struct {
		comment string
		want    []string // theme:text, in order of position
	}{
		{"Waited ages ON  HOLD, then…", []string{"waiting:Waited", "waiting:ages", "waiting:ON  HOLD"}},
		{"Not rude at all, but charged twice", []string{"billing:charged", "billing:charged twice"}},
		{"Esperé — didn't call me back", []string{"waiting:Esperé", "callbacks:call me back"}},
		{"L'attente était longue", []string{"waiting:attente"}},
		{"", nil},
	} {
		var got []string
		for _, s := range d.Spans(tc.comment) {
			got = append(got, s.Theme+":"+tc.comment[s.Start:s.End])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: spans %q, want %q", tc.comment, got, tc.want)
		}
	}
}
