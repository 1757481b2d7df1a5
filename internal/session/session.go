// Package session signs and reads the cookie of a signed-in person, and
// derives the cross-site request forgery (CSRF) token that goes with it.
//
// The cookie holds no token: it holds who signed in (name, role), until
// when, a random session id, and a keyed digest of the token's hash (the
// token id) so the server can end the session once the token is no longer
// configured. All of it is signed with HMAC-SHA256 under the server's
// session key, so a cookie cannot be forged or edited without the key, and
// every node that shares the key accepts every other node's cookies.
package session

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/auth"
)

// Session is one sign-in.
type Session struct {
	ID      string    `json:"sid"` // random, 128 bits: each sign-in's CSRF token differs
	User    string    `json:"u"`
	Role    auth.Role `json:"-"`
	TokenID string    `json:"t"` // Codec.TokenID of the token signed in with
	Expires time.Time `json:"-"`
}

// wire is the signed payload.
type wire struct {
	V int `json:"v"`
	Session
	Role    string `json:"r"`
	Expires int64  `json:"exp"`
}

// version of the payload; a cookie of another version is refused.
const version = 1

// Errors of Read.
var (
	ErrMalformed = errors.New("session cookie is malformed")
	ErrSignature = errors.New("session cookie signature does not match")
	ErrExpired   = errors.New("session expired")
)

// Codec signs sessions and derives their CSRF tokens under one key.
type Codec struct {
	key []byte
}

// NewCodec takes the session key (PULSEBOARD_SESSION_KEY, at least 32
// characters: the config checks it).
func NewCodec(key []byte) *Codec { return &Codec{key: append([]byte(nil), key...)} }

// RandomKey makes a key for a server started without one.
func RandomKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("make a session key: %w", err)
	}
	return k, nil
}

// mac is HMAC-SHA256 under the key of a labelled message; the label keeps
// the digests of different uses apart, so a signature of one kind is never
// valid as another.
func (c *Codec) mac(label string, parts ...string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(label))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// Derive is a key for another use of the session key (claim links),
// labelled so that it signs nothing a session or CSRF digest could be:
// one secret to configure and rotate, keys kept apart.
func (c *Codec) Derive(label string) []byte { return c.mac("derive", label) }

// New makes a session for a person who just signed in.
func (c *Codec) New(user string, role auth.Role, tokenID string, expires time.Time) (Session, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Session{}, fmt.Errorf("make a session id: %w", err)
	}
	return Session{ID: hex.EncodeToString(b[:]), User: user, Role: role, TokenID: tokenID, Expires: expires}, nil
}

// Encode writes a session as a cookie value: base64url(payload).base64url(mac).
func (c *Codec) Encode(s Session) string {
	payload, _ := json.Marshal(wire{V: version, Session: s, Role: s.Role.String(), Expires: s.Expires.Unix()})
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(c.mac("session", p))
}

// maxCookie bounds what Decode reads.
const maxCookie = 1024

// Decode checks a cookie value's signature and expiry at now.
func (c *Codec) Decode(value string, now time.Time) (Session, error) {
	if len(value) > maxCookie {
		return Session{}, ErrMalformed
	}
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return Session{}, ErrMalformed
	}
	// Strict: one signature has one spelling, no spare trailing bits.
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return Session{}, ErrMalformed
	}
	if !hmac.Equal(got, c.mac("session", p)) {
		return Session{}, ErrSignature
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Session{}, ErrMalformed
	}
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil || w.V != version {
		return Session{}, ErrMalformed
	}
	role, ok := auth.ParseRole(w.Role)
	if !ok || w.ID == "" || !auth.ValidUserName(w.User) {
		return Session{}, ErrMalformed
	}
	s := w.Session
	s.Role, s.Expires = role, time.Unix(w.Expires, 0)
	if !now.Before(s.Expires) {
		return Session{}, ErrExpired
	}
	return s, nil
}

// TokenID is a keyed digest of a token's hash that a session carries: it
// identifies the token to this server, and to nobody without the key, so
// even a weak token cannot be guessed offline from a cookie.
func (c *Codec) TokenID(h auth.Hash) string {
	return hex.EncodeToString(c.mac("token", string(h[:]))[:12])
}

// CSRF is the anti-forgery token of a session: pages put it in their
// forms, and a state change from a cookie must carry it. It is a digest of
// the session id, so it changes with every sign-in and needs no storage.
func (c *Codec) CSRF(s Session) string {
	return base64.RawURLEncoding.EncodeToString(c.mac("csrf-session", s.ID))
}

// CSRFForUser is the anti-forgery token of a person a single-sign-on proxy
// names on each request: there is no session id, so it is a digest of the
// name, stable while the key stays.
func (c *Codec) CSRFForUser(user string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac("csrf-sso", user))
}

// CheckCSRF compares a presented token with the expected one in constant
// time.
func CheckCSRF(presented, expected string) bool {
	return presented != "" && hmac.Equal([]byte(presented), []byte(expected))
}
