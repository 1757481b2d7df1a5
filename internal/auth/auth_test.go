package auth

import (
	"net/http/httptest"
	"testing"
)

func TestTokens(t *testing.T) {
	ts := NewTokens("first-token-0123456", "second-token-012345")
	for tok, want := range map[string]bool{
		"first-token-0123456":  true,
		"second-token-012345":  true,
		"first-token-012345":   false,
		"":                     false,
		"first-token-01234567": false,
	} {
		if got := ts.Valid(tok); got != want {
			t.Errorf("Valid(%q) = %v, want %v", tok, got, want)
		}
	}
	if !NewTokens().Empty() || ts.Empty() {
		t.Error("Empty is wrong")
	}
}

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer  abc ": "abc",
		"Basic abc":    "",
		"Bearerabc":    "",
		"":             "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got := Bearer(r); got != want {
			t.Errorf("Bearer(%q) = %q, want %q", header, got, want)
		}
	}
	a, _ := Generate()
	b, _ := Generate()
	if len(a) < 32 || a == b {
		t.Errorf("Generate gave %q and %q", a, b)
	}
}
