package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// DefaultSecretHeader carries the shared secret of tools that cannot sign
// their deliveries, unless an adapter names another header.
const DefaultSecretHeader = "X-Pulseboard-Secret"

// SecretQuery is the query parameter a tool that cannot set headers puts the
// shared secret in. Prefer the header: query strings end up in proxies'
// access logs.
const SecretQuery = "secret"

type authenticator interface {
	authenticate(d Delivery) error
}

// sharedSecret accepts a delivery that presents the secret in its header or
// query parameter. The comparison is auth.Tokens', in constant time.
type sharedSecret struct {
	header string
	secret *auth.Tokens
}

func newSharedSecret(header, secret string) sharedSecret {
	if header == "" {
		header = DefaultSecretHeader
	}
	return sharedSecret{header: header, secret: auth.NewTokens(secret)}
}

func (s sharedSecret) authenticate(d Delivery) error {
	presented := d.Header.Get(s.header)
	if presented == "" {
		presented = d.Query.Get(SecretQuery)
	}
	if !s.secret.Valid(presented) {
		return fault.New(fault.Unauthorized, "a valid webhook secret is required: send it in the %s header or as ?%s=", s.header, SecretQuery)
	}
	return nil
}

// signature accepts a delivery whose header holds the HMAC-SHA256 of the raw
// body under the key, in hex, optionally prefixed "sha256=".
type signature struct {
	header string
	key    []byte
}

func (s signature) authenticate(d Delivery) error {
	got := strings.TrimSpace(d.Header.Get(s.header))
	if got == "" {
		return fault.New(fault.Unauthorized, "the %s header is missing", s.header)
	}
	if len(got) > len("sha256=") && strings.EqualFold(got[:len("sha256=")], "sha256=") {
		got = got[len("sha256="):]
	}
	sum, err := hex.DecodeString(got)
	if err != nil || !hmac.Equal(sum, sign(s.key, d.Body)) {
		return fault.New(fault.Unauthorized, "the %s header does not match the body: the HMAC-SHA256 key must be the webhook secret", s.header)
	}
	return nil
}

// sign is the HMAC-SHA256 of body under key.
func sign(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}
