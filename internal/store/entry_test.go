package store

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEntryEncoding: versioned entries round-trip, and an entry written
// before versions existed still decodes, as unversioned.
func TestEntryEncoding(t *testing.T) {
	for _, e := range []Entry{
		{FP: "abc", At: 1700000000, Score: 7, Groups: []RollupGroup{{"overall", ""}, {"team", "alpha"}}},
		{FP: "abc", At: 1700000000, Score: 7, Version: MaxVersion, Groups: []RollupGroup{{"team", "alpha"}}},
		{FP: "abc", At: -5, Score: 0, Version: 1},
	} {
		got, err := DecodeEntry(e.Encode())
		if err != nil || got.FP != e.FP || got.At != e.At || got.Score != e.Score || got.Version != e.Version || !slices.Equal(got.Groups, e.Groups) {
			t.Errorf("DecodeEntry(%q) = %+v, %v; want %+v", e.Encode(), got, err, e)
		}
	}
	old, err := DecodeEntry("k3j9;1700000000;4;team=alpha;team+agent=alpha/Ana Lima")
	if err != nil || old.Version != 0 || old.Score != 4 || len(old.Groups) != 2 || old.Groups[1].Group != "alpha/Ana Lima" {
		t.Errorf("old entry: %+v, %v", old, err)
	}
	if _, err := DecodeEntry("k;1;4;vx"); err == nil {
		t.Error("a malformed version decoded")
	}
}

// TestEntryCells: an entry's counters survive Encode and DecodeEntry (the
// Redis engine's records and the change log), an NPS-only entry encodes as
// it did before CSAT and offers, and a counter no writer makes is an error.
func TestEntryCells(t *testing.T) {
	groups := []RollupGroup{{Rollup: "team", Group: "alpha"}}
	for _, c := range []struct {
		e     Entry
		cells string
	}{
		{Entry{FP: "f", At: 60, Score: 7, Groups: groups}, "7"},
		{Entry{FP: "f", At: 60, Score: 0, CSAT: 4, Groups: groups}, "0,c4"},
		{Entry{FP: "f", At: 60, Score: NoScore, CSAT: 1, Version: 3, Groups: groups}, "c1"},
		{Entry{FP: "f", At: 60, Score: NoScore, Offer: true, Groups: groups}, "o"},
		{Entry{FP: "f", At: 60, Score: NoScore, Offer: true, Answered: true, Groups: groups}, "o,a"},
	} {
		enc := c.e.Encode()
		if !strings.HasPrefix(enc, "f;60;"+c.cells+";") {
			t.Errorf("%+v encodes as %q, want cells %q", c.e, enc, c.cells)
		}
		got, err := DecodeEntry(enc)
		if err != nil || !reflect.DeepEqual(got, c.e) {
			t.Errorf("%q decodes as %+v, %v; want %+v", enc, got, err, c.e)
		}
	}
	for _, bad := range []string{"f;60;c9;team=alpha", "f;60;11;team=alpha", "f;60;x;team=alpha", "f;60;7,;team=alpha"} {
		if _, err := DecodeEntry(bad); err == nil {
			t.Errorf("%q decodes", bad)
		}
	}
}
