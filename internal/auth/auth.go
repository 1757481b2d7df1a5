// Package auth checks bearer tokens and screen pairings. Tokens are kept only
// as SHA-256 hashes and compared in constant time, so neither memory dumps,
// config files nor response timing give a token away.
//
// Four kinds of token use it: ingest tokens (write responses), viewer
// tokens (read everything and work the follow-ups, each named after its
// person: see Users), admin tokens (a viewer that also reloads, profiles and
// redrives), and display tokens, each scoped to one board and named after
// the screen it pairs (see Screen).
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// HashPrefix marks a configured token that is given as its SHA-256 hash
// ("sha256:" and 64 hex digits) rather than in the clear, so config files
// and environments need not hold usable secrets.
const HashPrefix = "sha256:"

// Hash is a token's SHA-256.
type Hash [sha256.Size]byte

// HashOf hashes a presented token.
func HashOf(token string) Hash { return sha256.Sum256([]byte(token)) }

// String writes the hash as it is configured: "sha256:<hex>".
func (h Hash) String() string { return HashPrefix + hex.EncodeToString(h[:]) }

// ParseHash reads "sha256:<64 hex digits>" (or the bare 64 hex digits).
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(strings.TrimPrefix(s, HashPrefix))
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("want %s and 64 hex digits, as `pulseboard token` prints", HashPrefix)
	}
	copy(h[:], b)
	return h, nil
}

// IsHash reports whether a configured token is written as a hash.
func IsHash(s string) bool { return strings.HasPrefix(s, HashPrefix) }

// matchIndex returns the index of the hash equal to presented's, or -1. It
// compares against every hash, so the time taken says neither whether nor
// which one matched.
func matchIndex(hashes []Hash, presented string) int {
	if presented == "" {
		return -1
	}
	h := HashOf(presented)
	found := -1
	for i := range hashes {
		if subtle.ConstantTimeCompare(h[:], hashes[i][:]) == 1 {
			found = i
		}
	}
	return found
}

// Tokens is a set of accepted bearer tokens.
type Tokens struct {
	hashes []Hash
}

// NewTokens takes the accepted tokens, each in the clear or as a hash
// ("sha256:..."); the config has validated hashes already, and one that
// does not parse is never matched.
func NewTokens(tokens ...string) *Tokens {
	t := &Tokens{}
	for _, tok := range tokens {
		if h, ok := configuredHash(tok); ok {
			t.hashes = append(t.hashes, h)
		}
	}
	return t
}

// configuredHash is the hash of a configured token, given in the clear or
// as "sha256:<hex>"; false for a hash that does not parse.
func configuredHash(tok string) (Hash, bool) {
	if !IsHash(tok) {
		return HashOf(tok), true
	}
	h, err := ParseHash(tok)
	return h, err == nil
}

// Empty reports whether no token is configured.
func (t *Tokens) Empty() bool { return t == nil || len(t.hashes) == 0 }

// Valid reports whether presented is one of the tokens.
func (t *Tokens) Valid(presented string) bool {
	return t != nil && matchIndex(t.hashes, presented) >= 0
}

// Screen is one paired display: a name an operator recognises ("lobby-tv")
// and the hash of the display token it was paired with. Removing it from
// the board's definition revokes the screen.
type Screen struct {
	Name string
	Hash Hash
}

// MatchScreen returns the screen whose token presented is, in constant time
// over all of them.
func MatchScreen(screens []Screen, presented string) (Screen, bool) {
	hashes := make([]Hash, len(screens))
	for i, s := range screens {
		hashes[i] = s.Hash
	}
	if i := matchIndex(hashes, presented); i >= 0 {
		return screens[i], true
	}
	return Screen{}, false
}

// Bearer extracts the token of an "Authorization: Bearer <token>" header.
func Bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Generate makes a random token (for a server started without one, and for
// `pulseboard token`).
func Generate() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
