package claimlink

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, path string) (action, id, exp, sig string) {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), PathPrefix)
	if !ok {
		t.Fatalf("path %q does not start with %s", path, PathPrefix)
	}
	a, i, _ := strings.Cut(rest, "/")
	action, _ = url.PathUnescape(a)
	id, _ = url.PathUnescape(i)
	return action, id, u.Query().Get(ParamExpires), u.Query().Get(ParamSignature)
}

func TestLinkRoundTripAndRefusals(t *testing.T) {
	s := New([]byte("k1"))
	now := time.Unix(1_764_600_000, 0)
	id := "crm/42 ?&<x>"
	action, gotID, exp, sig := parse(t, s.Path(ActionClaim, id, now.Add(time.Hour)))
	if action != ActionClaim || gotID != id {
		t.Fatalf("path carries %q %q, want claim %q", action, gotID, id)
	}
	if _, err := s.Verify(ActionClaim, id, exp, sig, now); err != nil {
		t.Fatalf("valid link refused: %v", err)
	}
	cases := []struct {
		name                 string
		action, id, exp, sig string
		at                   time.Time
		want                 error
	}{
		{"expired", ActionClaim, id, exp, sig, now.Add(time.Hour), ErrExpired},
		{"another follow-up", ActionClaim, "crm/43", exp, sig, now, ErrSignature},
		{"another action", "resolve", id, exp, sig, now, ErrSignature},
		{"longer life", ActionClaim, id, "1764603601", sig, now, ErrSignature},
		{"tampered signature", ActionClaim, id, exp, strings.Repeat("A", len(sig)), now, ErrSignature},
		{"no signature", ActionClaim, id, exp, "", now, ErrMalformed},
		{"garbled expiry", ActionClaim, id, "soon", sig, now, ErrMalformed},
		{"padded expiry", ActionClaim, id, "0" + exp, sig, now, ErrMalformed},
		{"signature with padding", ActionClaim, id, exp, sig + "=", now, ErrMalformed},
	}
	for _, c := range cases {
		if _, err := s.Verify(c.action, c.id, c.exp, c.sig, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := New([]byte("k2")).Verify(ActionClaim, id, exp, sig, now); !errors.Is(err, ErrSignature) {
		t.Errorf("another key: got %v, want ErrSignature", err)
	}
}

func TestFieldsCannotShift(t *testing.T) {
	// Without length prefixes, ("claim", "a1") could sign like ("claima", "1").
	s := New([]byte("k"))
	exp := time.Unix(2_000_000_000, 0)
	_, _, e, sig := parse(t, s.Path("claim", "a1", exp))
	if _, err := s.Verify("claima", "1", e, sig, time.Unix(0, 0)); !errors.Is(err, ErrSignature) {
		t.Fatalf("shifted fields accepted: %v", err)
	}
}

func TestLinksClaim(t *testing.T) {
	l := Links{Base: "https://pulse.example.com/", Signer: New([]byte("k")), TTL: 72 * time.Hour}
	got := l.Claim("r-1", time.Unix(1_764_600_000, 0))
	if !strings.HasPrefix(got, "https://pulse.example.com/links/claim/r-1?exp=1764859200&sig=") {
		t.Fatalf("claim link %q", got)
	}
}
