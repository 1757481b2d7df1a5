// Package claimlink signs and checks the links that chat messages carry to
// act on one follow-up: "claim follow-up r-1", valid until a time.
//
// A link is a capability: whoever holds it may do its one action to its one
// follow-up, until it expires, and nothing else. Its signature (HMAC-SHA256
// under a key only the servers have) covers the action, the follow-up id and
// the expiry, each length-prefixed, so none of them can be changed, nor
// moved from one link to another: a link for r-1 does not open r-2, and a
// link to claim does not resolve.
package claimlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ActionClaim is the one action links carry today.
const ActionClaim = "claim"

// PathPrefix is where links point: PathPrefix + <action> + "/" + <id>.
const PathPrefix = "/links/"

// Query parameters of a link.
const (
	ParamExpires   = "exp"
	ParamSignature = "sig"
)

// Errors of Verify.
var (
	ErrMalformed = errors.New("the link is incomplete: its exp or sig parameter is missing or garbled")
	ErrSignature = errors.New("the link's signature does not match: it was changed, or it is for another follow-up or action")
	ErrExpired   = errors.New("the link has expired")
)

// Signer signs and checks links under one key.
type Signer struct {
	key []byte
}

// New takes the key links are signed with. Callers derive it from a
// server secret with a label of its own (session.Codec.Derive), so a link
// signature is never valid as anything else.
func New(key []byte) *Signer { return &Signer{key: append([]byte(nil), key...)} }

func (s *Signer) mac(action, id string, exp int64) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range []string{"pulseboard-link-v1", action, id, strconv.FormatInt(exp, 10)} {
		// Length-prefixed: ("ab","c") and ("a","bc") sign differently.
		m.Write([]byte(strconv.Itoa(len(p)) + ":" + p))
	}
	return m.Sum(nil)
}

// Path is the link's path and query (no scheme or host): the action and
// the id, escaped as path segments, and the expiry and signature.
func (s *Signer) Path(action, id string, expires time.Time) string {
	exp := expires.Unix()
	q := url.Values{ParamExpires: {strconv.FormatInt(exp, 10)}, ParamSignature: {base64.RawURLEncoding.EncodeToString(s.mac(action, id, exp))}}
	return PathPrefix + url.PathEscape(action) + "/" + url.PathEscape(id) + "?" + q.Encode()
}

// Verify checks a link's parameters for an action on a follow-up at now.
// The signature is checked before the expiry, so an edited expiry is a
// bad signature, not a longer life. It returns the expiry.
func (s *Signer) Verify(action, id, exp, sig string, now time.Time) (time.Time, error) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || e <= 0 || strings.HasPrefix(exp, "+") || strings.HasPrefix(exp, "0") {
		return time.Time{}, ErrMalformed
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return time.Time{}, ErrMalformed
	}
	if !hmac.Equal(got, s.mac(action, id, e)) {
		return time.Time{}, ErrSignature
	}
	t := time.Unix(e, 0)
	if !now.Before(t) {
		return t, ErrExpired
	}
	return t, nil
}

// Links makes absolute claim links: the server's public address, a signer
// and how long a link lasts.
type Links struct {
	// Base is the server's public URL (public_url), like
	// https://pulse.example.com.
	Base   string
	Signer *Signer
	TTL    time.Duration
}

// Claim is the link that claims follow-up id, made at now.
func (l Links) Claim(id string, now time.Time) string {
	return strings.TrimSuffix(l.Base, "/") + l.Signer.Path(ActionClaim, id, now.Add(l.TTL))
}

// keyLabel names the claim links' key among the keys derived from the
// session key.
const keyLabel = "claim-link"

// FromSessionKey is the signer whose key is derived from the session key
// (session.Codec.Derive): every node that shares the session key checks
// every node's links, and changing the session key ends them too.
func FromSessionKey(derive func(label string) []byte) *Signer { return New(derive(keyLabel)) }
