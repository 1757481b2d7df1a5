package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// fixedQuerier answers every query with the same groups.
type fixedQuerier []store.Group

func (q fixedQuerier) Query(context.Context, store.Query) ([]store.Group, error) { return q, nil }

// npsJSONGroups are groups whose figures hit every rounding case: no
// responses, whole numbers, thirds, exact halves of the last decimal
// (3.125 and −3.125 with n=32), a clipped interval and a large sample.
func npsJSONGroups() fixedQuerier {
	of := func(p, pa, d int64) nps.Distribution {
		var x nps.Distribution
		x[10], x[8], x[3] = p, pa, d
		return x
	}
	eighth := of(1, 31, 0)
	eighth[10], eighth[9] = 0, 1 // mean 8.03125
	big := nps.Distribution{13, 7, 22, 41, 58, 77, 130, 260, 480, 655, 702}
	team := func(v string, d nps.Distribution) store.Group {
		return store.Group{Key: map[store.Dimension]string{store.Team: v}, Counts: d}
	}
	return fixedQuerier{
		{Key: map[store.Dimension]string{}, Counts: big},
		team("empty", nps.Distribution{}),
		team("seventy", of(75, 20, 5)),
		team("third", nps.Of(0, 1, 9)),
		team("eighth", eighth),
		team("minus-eighth", of(0, 31, 1)),
		team("ci", of(30, 17, 11)),
		team("all", of(20, 0, 0)),
		team("none", of(0, 0, 7)),
	}
}

// TestNPSJSONBytes pins GET /api/v1/nps byte for byte: the group shape
// (now nps.Summary) must not change what clients have parsed since v1.
func TestNPSJSONBytes(t *testing.T) {
	now := time.Date(2026, 12, 1, 14, 7, 30, 0, time.UTC)
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Querier: npsJSONGroups(), PublicBoards: true, MinSample: 30,
		Calendar: window.MustCalendar(time.UTC), Now: func() time.Time { return now },
	}))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/api/v1/nps?window=1h&by=team")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	want, err := os.ReadFile("testdata/nps.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("GET /api/v1/nps changed:\n got %s\nwant %s", body, want)
	}
}

// TestNPSCalendarWindows: a calendar window answers with its label and the
// span it covers; a closed one ends at the start of the current period,
// with weeks starting on the calendar's weekday.
func TestNPSCalendarWindows(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 7, 30, 0, time.UTC) // a Thursday
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Querier: npsJSONGroups(), PublicBoards: true, MinSample: 30,
		Calendar: window.MustCalendar(time.UTC).WithWeekStart(time.Sunday), Now: func() time.Time { return now },
	}))
	t.Cleanup(srv.Close)
	for _, c := range []struct{ window, label, from, to string }{
		{"yesterday", "yesterday", "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"},
		{"this_week", "this week since Sun", "2026-11-29T00:00:00Z", "2026-12-03T14:08:00Z"},
		{"last_week", "last week", "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z"},
		{"last_month", "last month", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"},
		{"4h", "rolling 4 h", "2026-12-03T10:08:00Z", "2026-12-03T14:08:00Z"},
	} {
		res, err := http.Get(srv.URL + "/api/v1/nps?window=" + c.window)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Window, Label, From, To string }
		err = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, %v", c.window, res.StatusCode, err)
		}
		if got.Window != c.window || got.Label != c.label || got.From != c.from || got.To != c.to {
			t.Errorf("%s: got %+v, want label %q from %s to %s", c.window, got, c.label, c.from, c.to)
		}
	}
}
