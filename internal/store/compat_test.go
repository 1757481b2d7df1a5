package store

import (
	"encoding/json"
	"testing"
)

// TestFingerprintCompatible pins fingerprints computed by the code before
// journey and custom dimensions existed: a response without them must
// fingerprint byte-identically, so a resend after an upgrade is a duplicate,
// not an update.
func TestFingerprintCompatible(t *testing.T) {
	for _, c := range []struct {
		r    Response
		want string
	}{
		{Response{Score: 9}, "3p0ef3eyqof2r"},
		{Response{Score: 0, Dims: Dims{Channel: "phone"}}, "130h723ng8c5x"},
		{Response{Score: 7, Dims: Dims{Channel: "email", Segment: "smb", Team: "billing", Agent: "Ana Lima"}, Comment: "Sorted in one call", Tags: []string{"vip", "renewal"}}, "2wi2cowm1ntse"},
		{Response{Score: 3, Dims: Dims{Channel: "chat", Team: "tech-support"}, Comment: "slow"}, "2x48zcokjiwez"},
		{Response{Score: 10, Dims: Dims{Channel: "sms", Agent: "a@b.c"}, Tags: []string{"x"}}, "3gu534q6n8lvw"},
	} {
		if got := Fingerprint(c.r); got != c.want {
			t.Errorf("Fingerprint(%+v) = %q, want %q (the fingerprint of stored responses changed)", c.r, got, c.want)
		}
	}
}

// TestRollupNamesStable pins the names of the rollups that existed before
// dimensions were data: they are parts of Redis keys, so a deployment's
// counters survive an upgrade only if they stay byte-identical.
func TestRollupNamesStable(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "all",
		"all":                        "all",
		"channel":                    "channel",
		"segment":                    "segment",
		"team":                       "team",
		"agent":                      "agent",
		"team,channel":               "channel+team",
		"channel+team":               "channel+team",
		"agent+team":                 "team+agent",
		"segment+team":               "segment+team",
		"agent,segment":              "segment+agent",
		"agent+channel+segment+team": "channel+segment+team+agent",
	} {
		r, err := ParseRollup(in)
		if err != nil || r.Name() != want {
			t.Errorf("ParseRollup(%q) = %q, %v; want %q", in, r.Name(), err, want)
		}
	}
}

// TestOldPayloadDecodes: a change log payload written before journey and
// custom dimensions existed still decodes.
func TestOldPayloadDecodes(t *testing.T) {
	old := `{"id":"case-1","score":7,"channel":"email","segment":"smb","team":"billing","agent":"Ana Lima","comment":"hi","tags":["a"]}`
	var p Payload
	if err := json.Unmarshal([]byte(old), &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != "case-1" || p.Score != 7 || p.Channel != "email" || p.Segment != "smb" || p.Team != "billing" || p.Agent != "Ana Lima" || p.Comment != "hi" || len(p.Tags) != 1 {
		t.Fatalf("decoded %+v", p)
	}
	if got := string(PayloadOf(Response{ID: "case-1", Score: 7, Dims: Dims{Channel: "email", Segment: "smb", Team: "billing", Agent: "Ana Lima"}, Comment: "hi", Tags: []string{"a"}})); got != old {
		t.Fatalf("payload of a response without new dimensions changed:\n got %s\nwant %s", got, old)
	}
}
