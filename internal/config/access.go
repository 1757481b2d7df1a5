package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/textproto"
	"slices"
	"time"

	"github.com/pulseboard/pulseboard/internal/auth"
)

// Parsers of the viewer, session and single-sign-on settings.

// parseViewerTokens reads "name:token" entries, each token in the clear or
// as its hash; one person may have several (to rotate), one token may not
// name two people.
func parseViewerTokens(raw string) ([]auth.NamedToken, error) {
	var out []auth.NamedToken
	for i, it := range splitList(raw, ",") {
		v, err := auth.ParseNamedToken(it)
		if err != nil {
			return nil, fmt.Errorf("viewer %d: %w", i+1, err)
		}
		if err := checkToken(i, v.Token); err != nil {
			return nil, fmt.Errorf("viewer %q: %w", v.Name, err)
		}
		for _, o := range out {
			if o.Token == v.Token && o.Name != v.Name {
				return nil, fmt.Errorf("viewers %q and %q have the same token", o.Name, v.Name)
			}
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// minSessionKey is the shortest session key: 32 characters of a random
// token (`pulseboard token` prints 32) carry about 192 bits.
const minSessionKey = 32

func parseSessionKey(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return "", errors.New("must be printable, without spaces")
		}
	}
	if len(raw) < minSessionKey {
		return "", fmt.Errorf("must be at least %d characters (`pulseboard token` makes one)", minSessionKey)
	}
	return raw, nil
}

func parseSessionTTL(raw string) (time.Duration, error) {
	d, err := parseDuration(raw)
	if err != nil {
		return 0, err
	}
	if d < 5*time.Minute || d > 30*day {
		return 0, errors.New("must be from 5m to 30d")
	}
	return d, nil
}

// parseTrustedProxies reads IP addresses and CIDR prefixes.
func parseTrustedProxies(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, it := range splitList(raw, ",") {
		p, err := netip.ParsePrefix(it)
		if err != nil {
			ip, ipErr := netip.ParseAddr(it)
			if ipErr != nil {
				return nil, fmt.Errorf("%q is not an IP address or a CIDR prefix like 10.0.0.0/8", it)
			}
			ip = ip.Unmap()
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		p = p.Masked()
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// parseHeaderName reads an HTTP header name, canonicalised.
func parseHeaderName(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) > 64 {
		return "", errors.New("must be a header name of at most 64 characters")
	}
	for _, r := range raw {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", errors.New("must be a header name of letters, digits, - and _, like X-Forwarded-User")
		}
	}
	switch h := textproto.CanonicalMIMEHeaderKey(raw); h {
	case "Authorization", "Cookie", "Host", "Origin", "Referer":
		return "", fmt.Errorf("%s is not a user header", h)
	default:
		return h, nil
	}
}

// parseUserNames reads person names, as the proxy sends them.
func parseUserNames(raw string) ([]string, error) {
	var out []string
	for _, it := range splitList(raw, ",") {
		if !auth.ValidUserName(it) {
			return nil, fmt.Errorf("%q: a user name is %s", it, auth.UserNameRule)
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}
