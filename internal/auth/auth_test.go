package auth

import (
	"net/http/httptest"
	"strings"
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

func TestHashedTokens(t *testing.T) {
	const clear = "first-token-0123456"
	h := HashOf(clear)
	back, err := ParseHash(h.String())
	if err != nil || back != h {
		t.Fatalf("ParseHash(%s) = %v, %v", h, back, err)
	}
	ts := NewTokens(h.String(), "sha256:not-hex")
	if !ts.Valid(clear) || ts.Valid(h.String()) || ts.Valid("") {
		t.Error("a hashed token must match its clear text only")
	}
	for _, bad := range []string{"sha256:abc", "sha256:" + strings.Repeat("z", 64), ""} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) accepted", bad)
		}
	}
}

func TestMatchScreen(t *testing.T) {
	screens := []Screen{{Name: "lobby", Hash: HashOf("lobby-token-0123456")}, {Name: "floor-2", Hash: HashOf("floor-token-0123456")}}
	if s, ok := MatchScreen(screens, "floor-token-0123456"); !ok || s.Name != "floor-2" {
		t.Errorf("MatchScreen = %v, %v", s, ok)
	}
	for _, tok := range []string{"", "lobby-token-012345", "sha256:" + HashOf("lobby-token-0123456").String()} {
		if _, ok := MatchScreen(screens, tok); ok {
			t.Errorf("MatchScreen(%q) matched", tok)
		}
	}
	if _, ok := MatchScreen(nil, "x"); ok {
		t.Error("no screens matched")
	}
}

func TestUserNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"dana": true, "Dana O'Neil": true, "dana.smith+ops@example.com": true, "Zoë": true, "李": true,
		"": false, " dana": false, "dana ": false, "<b>": false, "a,b": false, "a:b": false, "dana\n": false,
		"dana\u200b": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false, "\xff": false,
	} {
		if ValidUserName(name) != ok {
			t.Errorf("ValidUserName(%q) = %v", name, !ok)
		}
	}
}

func TestUsers(t *testing.T) {
	nt, err := ParseNamedToken("lee:" + HashOf("lee-token-0123456789").String())
	if err != nil {
		t.Fatal(err)
	}
	u := NewUsers(NamedToken{Name: "dana", Token: "dana-token-012345678"}, nt)
	if got, ok := u.Match("lee-token-0123456789"); !ok || got.Name != "lee" {
		t.Errorf("Match(lee's token) = %v, %v", got, ok)
	}
	if _, ok := u.Match("dana-token-01234567"); ok {
		t.Error("a prefix of a token matched")
	}
	idOf := func(h Hash) string { return h.String()[7:19] }
	if !u.Holds("dana", idOf(HashOf("dana-token-012345678")), idOf) || u.Holds("lee", idOf(HashOf("dana-token-012345678")), idOf) {
		t.Error("Holds does not tie the token to its person")
	}
	for _, bad := range []string{"dana", "dana:", ":tok", "sha256:" + strings.Repeat("a", 64), "<b>:tok"} {
		if _, err := ParseNamedToken(bad); err == nil {
			t.Errorf("ParseNamedToken(%q) accepted", bad)
		}
	}
	var none *Users
	if _, ok := none.Match("x"); ok || !none.Empty() {
		t.Error("a nil Users matches")
	}
}
