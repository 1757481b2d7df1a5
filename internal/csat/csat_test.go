package csat

import "testing"

func TestCSAT(t *testing.T) {
	if (Distribution{}).Share().OK() {
		t.Error("CSAT of nothing")
	}
	d := Of(1, 2, 3, 4, 5, 5, 4, 4)
	if d.Answers() != 8 || d.Satisfied() != 5 {
		t.Fatalf("%v: %d answers, %d satisfied", d, d.Answers(), d.Satisfied())
	}
	if pct, _, _ := d.Share().Percents(); pct != 62.5 {
		t.Errorf("CSAT %v, want 62.5", pct)
	}
	if p := d.Add(Of(1, 1)); p.Answers() != 10 || p.Satisfied() != 5 {
		t.Errorf("pooled %v", p)
	}
	s := d.Share()
	if !(s.Low < s.Value && s.Value < s.High) {
		t.Errorf("interval %+v", s)
	}
}
