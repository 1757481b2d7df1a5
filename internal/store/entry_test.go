package store

import (
	"slices"
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
