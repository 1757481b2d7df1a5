// Package auth checks bearer tokens. Tokens are kept only as SHA-256 hashes
// and compared in constant time, so neither memory dumps nor response timing
// give a token away.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// Tokens is a set of accepted bearer tokens.
type Tokens struct {
	hashes [][sha256.Size]byte
}

// NewTokens hashes the accepted tokens.
func NewTokens(tokens ...string) *Tokens {
	t := &Tokens{}
	for _, tok := range tokens {
		t.hashes = append(t.hashes, sha256.Sum256([]byte(tok)))
	}
	return t
}

// Empty reports whether no token is configured.
func (t *Tokens) Empty() bool { return len(t.hashes) == 0 }

// Valid reports whether presented is one of the tokens. It compares against
// every token, so the time taken does not say which one matched.
func (t *Tokens) Valid(presented string) bool {
	if presented == "" {
		return false
	}
	h := sha256.Sum256([]byte(presented))
	ok := 0
	for _, want := range t.hashes {
		ok |= subtle.ConstantTimeCompare(h[:], want[:])
	}
	return ok == 1
}

// Bearer extracts the token of an "Authorization: Bearer <token>" header.
func Bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Generate makes a random token for a server started without one.
func Generate() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
