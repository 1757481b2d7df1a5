package session

import (
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/auth"
)

func TestRoundTripAndRefusals(t *testing.T) {
	c := NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s, err := c.New("Dana O'Neil", auth.Viewer, c.TokenID(auth.HashOf("tok-0123456789abcdef")), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v := c.Encode(s)
	got, err := c.Decode(v, now)
	if err != nil || got.User != s.User || got.Role != auth.Viewer || got.ID != s.ID || got.TokenID != s.TokenID || !got.Expires.Equal(s.Expires) {
		t.Fatalf("Decode = %+v, %v; want %+v", got, err, s)
	}
	if _, err := c.Decode(v, now.Add(time.Hour)); err != ErrExpired {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if _, err := NewCodec([]byte("another key, another key, another")).Decode(v, now); err != ErrSignature {
		t.Errorf("another key: %v, want ErrSignature", err)
	}
	// Every one-character change of the value is refused.
	for i := range v {
		b := []byte(v)
		b[i] ^= 1
		if _, err := c.Decode(string(b), now); err == nil {
			t.Errorf("changed at %d: accepted", i)
		}
	}
	for _, bad := range []string{"", ".", "x", strings.Repeat("a", 2000)} {
		if _, err := c.Decode(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSessionIDsAndCSRF(t *testing.T) {
	c := NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	a, _ := c.New("dana", auth.Viewer, "t", exp)
	b, _ := c.New("dana", auth.Viewer, "t", exp)
	if a.ID == b.ID || len(a.ID) != 32 {
		t.Errorf("session ids %q and %q: want two random 128-bit ids", a.ID, b.ID)
	}
	if c.CSRF(a) == c.CSRF(b) || !CheckCSRF(c.CSRF(a), c.CSRF(a)) || CheckCSRF("", c.CSRF(a)) || CheckCSRF(c.CSRF(b), c.CSRF(a)) {
		t.Error("CSRF tokens are not one per session")
	}
	other := NewCodec([]byte("fedcba9876543210fedcba9876543210"))
	if other.CSRF(a) == c.CSRF(a) || other.CSRFForUser("dana") == c.CSRFForUser("dana") || c.CSRFForUser("dana") == c.CSRFForUser("lee") {
		t.Error("CSRF tokens do not depend on the key and the person")
	}
	// A token id is keyed: it does not give the token's hash away.
	h := auth.HashOf("tok-0123456789abcdef")
	if id := c.TokenID(h); strings.Contains(h.String(), id) || id == other.TokenID(h) {
		t.Errorf("token id %q is not keyed", id)
	}
}
