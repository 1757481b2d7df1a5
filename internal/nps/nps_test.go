package nps

import (
	"math"
	"testing"
)

// dist builds a distribution with the given number of promoters (10s),
// passives (8s) and detractors (3s).
func dist(promoters, passives, detractors int64) Distribution {
	var d Distribution
	d[10], d[8], d[3] = promoters, passives, detractors
	return d
}

func TestNPS(t *testing.T) {
	cases := []struct {
		name string
		d    Distribution
		want float64
		ok   bool
	}{
		{"75/20/5 gives 70", dist(75, 20, 5), 70, true},
		{"all 9-10 gives +100", Of(9, 10, 10, 9), 100, true},
		{"all 0-6 gives -100", Of(0, 1, 2, 3, 4, 5, 6), -100, true},
		{"all 8s gives 0: an 8 is passive", Of(8, 8, 8, 8), 0, true},
		{"7 is passive, 6 detractor, 9 promoter", Of(6, 7, 9), 0, true},
		{"no responses gives null", Distribution{}, 0, false},
	}
	for _, c := range cases {
		got, ok := c.d.NPS()
		if ok != c.ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: NPS = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestPoolingIsNotAveraging(t *testing.T) {
	email := dist(50, 26, 24)  // n=100, NPS 26
	phone := dist(180, 69, 51) // n=300, NPS 43
	if n, _ := email.NPS(); n != 26 {
		t.Fatalf("email NPS %v", n)
	}
	if n, _ := phone.NPS(); n != 43 {
		t.Fatalf("phone NPS %v", n)
	}
	got, _ := Pool(email, phone).NPS()
	if got != 38.75 {
		t.Errorf("pooled NPS = %v, want 38.75 (not the average 34.5)", got)
	}
}

func TestClassOf(t *testing.T) {
	want := []Class{Detractor, Detractor, Detractor, Detractor, Detractor, Detractor, Detractor, Passive, Passive, Promoter, Promoter}
	for s, w := range want {
		if got := ClassOf(s); got != w {
			t.Errorf("ClassOf(%d) = %s, want %s", s, got, w)
		}
	}
}

func TestCI(t *testing.T) {
	// n=58, 30 promoters, 11 detractors: hand-computed adjusted Wald.
	d := dist(30, 17, 11)
	n := 61.0
	p, q := 30.75/n, 11.75/n
	margin := 1.96 * math.Sqrt((p+q-(p-q)*(p-q))/n) * 100
	ci := d.CI()
	if math.Abs(ci.Center-100*(p-q)) > 1e-9 || math.Abs(ci.Margin-margin) > 1e-9 {
		t.Fatalf("CI = %+v, want center %v margin %v", ci, 100*(p-q), margin)
	}
	// The same figure worked by hand: ±19.4 for n=58.
	if math.Abs(ci.Margin-19.43) > 0.01 {
		t.Errorf("margin %v, want ±19.43 for n=58", ci.Margin)
	}
	// All promoters: the interval is clipped at +100.
	all := dist(20, 0, 0)
	if c := all.CI(); c.High != 100 || c.Low >= 100 || c.Low < 50 {
		t.Errorf("all-promoter CI = %+v, want clipped at 100 with a lower bound below", c)
	}
	if !d.LowSample(DefaultMinSample*2) || d.LowSample(DefaultMinSample) {
		t.Error("LowSample threshold is wrong")
	}
}

func TestMeanAndCounts(t *testing.T) {
	d := Of(0, 5, 7, 8, 9, 10)
	if m, ok := d.Mean(); !ok || math.Abs(m-39.0/6) > 1e-9 {
		t.Errorf("Mean = %v", m)
	}
	if d.Promoters() != 2 || d.Passives() != 2 || d.Detractors() != 2 || d.Responses() != 6 {
		t.Errorf("counts wrong: %v", d)
	}
	if _, ok := (Distribution{}).Mean(); ok {
		t.Error("Mean of nothing must be undefined")
	}
}
