package httpapi

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/pulseboard/pulseboard/views"
)

// TestScreenOptions: every kiosk option a typo can break is either used or
// named on the screen with what happens instead; a rotation skips boards
// that do not exist and keeps going.
func TestScreenOptions(t *testing.T) {
	exists := func(name string) (bool, string) {
		switch name {
		case "floor", "supervisor", "team-billing", "team/billing", "team/sales", "team/first line":
			return true, ""
		}
		return false, fmt.Sprintf("no board named %q", name)
	}
	templates := func(name string) ([]string, bool) {
		switch name {
		case "team":
			return []string{"team/billing", "team/first line", "team/sales"}, true
		case "empty":
			return nil, true
		}
		return nil, false
	}
	for _, tc := range []struct {
		query, current string
		want           views.ScreenOptions
	}{
		{"", "floor", views.ScreenOptions{}},
		{"kiosk=1&quiet=22-6", "floor", views.ScreenOptions{Kiosk: true, Quiet: true, QuietFrom: 22, QuietTo: 6}},
		{"rotate=floor,team-billing&every=2m", "floor", views.ScreenOptions{Next: "team-billing", EverySeconds: 120}},
		{"rotate=floor,team-billing", "team-billing", views.ScreenOptions{Next: "floor", EverySeconds: 30}},
		// This board is not in the list: start at the list's first.
		{"rotate=supervisor,team-billing&every=45s", "floor", views.ScreenOptions{Next: "supervisor", EverySeconds: 45}},
		{"rotate=floor,nope&every=10s", "floor", views.ScreenOptions{Notes: []string{`rotate: no board named "nope"; skipped`}}},
		{"rotate=floor,nope,supervisor", "floor", views.ScreenOptions{Next: "supervisor", EverySeconds: 30, Notes: []string{`rotate: no board named "nope"; skipped`}}},
		// From a board that does not exist, on to the first that does.
		{"rotate=nope,floor", "nope", views.ScreenOptions{Next: "floor", EverySeconds: 30, Notes: []string{`rotate: no board named "nope"; skipped`}}},
		{"rotate=x,y", "floor", views.ScreenOptions{Notes: []string{`rotate: no board named "x"; skipped`, `rotate: no board named "y"; skipped`, "rotate=x,y: none of these boards can be shown here; not rotating"}}},
		{"rotate=floor,,floor, supervisor", "supervisor", views.ScreenOptions{Next: "floor", EverySeconds: 30}},
		{"rotate=floor,supervisor&every=30x", "floor", views.ScreenOptions{Next: "supervisor", EverySeconds: 30, Notes: []string{"every=30x: want seconds or minutes, like 30s or 2m; rotating every 30s"}}},
		{"rotate=floor,supervisor&every=1s", "floor", views.ScreenOptions{Next: "supervisor", EverySeconds: 5, Notes: []string{"every=1s: shortest is 5s; rotating every 5s"}}},
		{"rotate=floor,supervisor&every=99999m", "floor", views.ScreenOptions{Next: "supervisor", EverySeconds: 30, Notes: []string{"every=99999m: want seconds or minutes, like 30s or 2m; rotating every 30s"}}},
		{"quiet=25-6", "floor", views.ScreenOptions{Notes: []string{"quiet=25-6: want two different hours from 0 to 23, like 22-6; not dimming"}}},
		{"quiet=night", "floor", views.ScreenOptions{Notes: []string{"quiet=night: want two different hours from 0 to 23, like 22-6; not dimming"}}},
		{"quiet=6-6", "floor", views.ScreenOptions{Notes: []string{"quiet=6-6: want two different hours from 0 to 23, like 22-6; not dimming"}}},
		{"kiosk=yes", "floor", views.ScreenOptions{Notes: []string{"kiosk=yes: want 1; the cursor stays visible"}}},
		// A template's boards, sorted by value, wherever the template is named.
		{"rotate=team/*", "floor", views.ScreenOptions{Next: "team/billing", EverySeconds: 30}},
		{"rotate=team/*", "team/billing", views.ScreenOptions{Next: "team/first line", EverySeconds: 30}},
		{"rotate=team/*", "team/first line", views.ScreenOptions{Next: "team/sales", EverySeconds: 30}},
		{"rotate=floor,team/*", "team/sales", views.ScreenOptions{Next: "floor", EverySeconds: 30}},
		{"rotate=team/billing,team/*,floor", "team/billing", views.ScreenOptions{Next: "team/first line", EverySeconds: 30}},
		{"rotate=teams/*,floor", "supervisor", views.ScreenOptions{Next: "floor", EverySeconds: 30, Notes: []string{`rotate: no board template named "teams"; skipped`}}},
		{"rotate=empty/*", "floor", views.ScreenOptions{Notes: []string{"rotate=empty/*: none of these boards can be shown here; not rotating"}}},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := screenOptions(q, tc.current, exists, templates); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("?%s on %s:\n got %+v\nwant %+v", tc.query, tc.current, got, tc.want)
		}
	}
}
