package nps

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// answer draws one answer's class as a one-answer distribution index.
func answer(rng *rand.Rand, theta [3]float64) int {
	u := rng.Float64()
	switch {
	case u < theta[0]:
		return 10
	case u < theta[0]+theta[1]:
		return 7
	}
	return 0
}

// The simulation harness: a board of 20 series, each answered 480 times a
// day (20 an hour), each detector tuned on a baseline of the seven days
// before, estimated from that series' own answers (so its error is part of
// what is measured). Answers are stepped one at a time: the per-minute
// buckets of the boards are never looser than that.
const (
	simSeries = 20
	simPerDay = 480
)

func tuned(rng *rand.Rand, theta [3]float64) Detector {
	return tunedFor(rng, theta, simSeries, simPerDay)
}

func tunedFor(rng *rand.Rand, theta [3]float64, series, perDay int) Detector {
	det, ok := NewDetector(draw(rng, 7*perDay, theta), series, float64(perDay))
	if !ok {
		panic("baseline without spread")
	}
	return det
}

// TestSequentialFalseAlarmsPerDay: with no change at all, the share of days
// on which any series of a board raises a mark stays at most
// DailyFalseAlarm: the harness's board of 20 series answered 480 times a
// day each, a small board of a quiet queue and a busy one.
func TestSequentialFalseAlarmsPerDay(t *testing.T) {
	for _, tc := range []struct {
		series, perDay, days int
		theta                [3]float64
	}{
		{simSeries, simPerDay, 1500, center},
		{4, 60, 4000, [3]float64{0.3, 0.3, 0.4}},
		{8, 3000, 1000, [3]float64{0.7, 0.2, 0.1}},
	} {
		rng := rand.New(rand.NewPCG(uint64(tc.series), uint64(tc.perDay)))
		alarmDays := make([]bool, tc.days)
		for range tc.series {
			det := tunedFor(rng, tc.theta, tc.series, tc.perDay)
			var c CUSUM
			for day := range tc.days {
				for range tc.perDay {
					var b Distribution
					b[answer(rng, tc.theta)]++
					c = det.Step(c, b)
					if det.Signal(c) != 0 {
						alarmDays[day] = true
						c = CUSUM{} // a raised mark is a found change: start over
					}
				}
			}
		}
		n := 0
		for _, a := range alarmDays {
			if a {
				n++
			}
		}
		rate := float64(n) / float64(tc.days)
		t.Logf("no change, %d series × %d answers a day: %d of %d board-days raised a mark: %.1f%% (documented at most %.0f%%)",
			tc.series, tc.perDay, n, tc.days, 100*rate, 100*DailyFalseAlarm)
		if rate > DailyFalseAlarm {
			t.Errorf("%d series × %d a day: false marks on %.1f%% of days, documented at most %.0f%%", tc.series, tc.perDay, 100*rate, 100*DailyFalseAlarm)
		}
	}
}

// TestSequentialDetectsADrop: after a real 15-point drop (+30 to +15), the
// mark appears within the documented number of answers.
func TestSequentialDetectsADrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 30))
	dropped := [3]float64{0.425, 0.3, 0.275} // +15
	const runs = 400
	delays := make([]int, 0, runs)
	wrongWay := 0
	for range runs {
		det := tuned(rng, center)
		var c CUSUM
		n := 0
		for det.Signal(c) == 0 && n < 20*simPerDay {
			var b Distribution
			b[answer(rng, dropped)]++
			c = det.Step(c, b)
			n++
		}
		if det.Signal(c) > 0 {
			wrongWay++
		}
		delays = append(delays, n)
	}
	slices.Sort(delays)
	median, p90 := delays[runs/2], delays[runs*9/10]
	t.Logf("15-point drop marked after a median of %d answers, 90%% within %d (%d of %d marked as a rise)", median, p90, wrongWay, runs)
	if median > 500 || p90 > 1000 || wrongWay > 0 {
		t.Fatalf("drop marked after median %d, p90 %d answers (%d the wrong way); documented: median at most 500, 90%% within 1000", median, p90, wrongWay)
	}
}

// TestBucketedNeverLooser: stepping a minute's answers at once never
// raises the statistic above stepping them one by one.
func TestBucketedNeverLooser(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	det, _ := NewDetector(Distribution{10: 500, 7: 300, 0: 200}, 10, 500)
	var single, bucketed CUSUM
	for range 2000 {
		var b Distribution
		for range rng.IntN(6) {
			var one Distribution
			one[answer(rng, [3]float64{0.4, 0.3, 0.3})]++
			single = det.Step(single, one)
			b = b.Add(one)
		}
		bucketed = det.Step(bucketed, b)
		if bucketed.Down > single.Down+1e-9 || bucketed.Up > single.Up+1e-9 {
			t.Fatalf("bucketed %+v above per-answer %+v", bucketed, single)
		}
	}
}

func TestThresholdFor(t *testing.T) {
	// Siegmund's approximation at k = 0.5, h = 4 gives an ARL₀ of about
	// 336 for a normal CUSUM; more exact tables (e.g. Montgomery,
	// Introduction to Statistical Quality Control, table 9.3: 336 for
	// k = 0.5, h = 4) agree. Inverting it must land on h = 4.
	if h := thresholdFor(336, 0.5); h < 3.97 || h > 4.03 {
		t.Fatalf("h for ARL₀ 336 at k 0.5: %.3f, want about 4", h)
	}
	if _, ok := NewDetector(Distribution{10: 5}, 1, 1); ok {
		t.Fatal("a baseline of promoters only has no spread: no detector")
	}
	if _, ok := NewDetector(Distribution{}, 1, 1); ok {
		t.Fatal("an empty baseline: no detector")
	}
}
