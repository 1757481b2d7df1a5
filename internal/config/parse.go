package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	// The time zone database is embedded so that a container without
	// /usr/share/zoneinfo still accepts every IANA name.
	_ "time/tzdata"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/redisurl"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Parsers take a raw value already trimmed of surrounding space. Their errors
// say why a value is wrong without repeating it: the caller names the setting
// and the source, and shows the value when it is not secret.

const day = 24 * time.Hour

func parseAddr(raw string) (string, error) {
	const want = "must be host:port, like :8080 or 127.0.0.1:8080"
	_, port, err := net.SplitHostPort(raw)
	if err != nil {
		return "", errors.New(want)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", errors.New("port must be a number from 0 to 65535")
	}
	return raw, nil
}

func parseRedisURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	// url.Parse errors quote the whole URL, password included: keep them
	// out of the message.
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a valid URL, like redis://localhost:6379/0")
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return "", errors.New("needs a host, like redis://localhost:6379/0")
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			if n, err := strconv.Atoi(db); err != nil || n < 0 {
				return "", errors.New("the path must be a database number, like redis://localhost:6379/0")
			}
		}
	case "unix":
		if u.Path == "" {
			return "", errors.New("needs a socket path, like unix:///run/redis/redis.sock")
		}
	case redisurl.ClusterScheme, redisurl.ClusterTLSScheme:
		if _, err := redisurl.ClusterOptions(raw); err != nil {
			return "", errors.New(strings.TrimPrefix(err.Error(), "parse redis cluster url: "))
		}
	case redisurl.SentinelScheme, redisurl.SentinelTLSScheme:
		if _, err := redisurl.SentinelOptions(raw); err != nil {
			return "", errors.New(strings.TrimPrefix(err.Error(), "parse redis sentinel url: "))
		}
	default:
		return "", errors.New("scheme must be redis, rediss or unix (redis+cluster or rediss+cluster for Redis Cluster, redis+sentinel or rediss+sentinel for Redis Sentinel)")
	}
	return raw, nil
}

// redactURL shows a URL with its password replaced, or nothing when it does
// not parse.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if _, has := u.User.Password(); !has {
		return raw
	}
	return u.Redacted()
}

// splitList splits a comma- or semicolon-separated value, trimming items and
// dropping empty ones.
func splitList(raw, sep string) []string {
	var out []string
	for _, it := range strings.Split(raw, sep) {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// minTokenLen is the shortest ingest token accepted.
const minTokenLen = 16

// parseTokens reads bearer tokens, each in the clear (at least minTokenLen
// printable characters) or as its hash, "sha256:<64 hex>".
func parseTokens(raw string) ([]string, error) {
	var out []string
	for i, tok := range splitList(raw, ",") {
		if err := checkToken(i, tok); err != nil {
			return nil, err
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

// checkToken validates the i-th (from 0) configured token.
func checkToken(i int, tok string) error {
	if auth.IsHash(tok) {
		if _, err := auth.ParseHash(tok); err != nil {
			return fmt.Errorf("token %d: %w", i+1, err)
		}
	} else if len(tok) < minTokenLen {
		return fmt.Errorf("token %d is shorter than %d characters", i+1, minTokenLen)
	}
	for _, r := range tok {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("token %d contains a space or a character that is not printable ASCII", i+1)
		}
	}
	return nil
}

func parseOrigins(raw string) ([]string, error) {
	var out []string
	for _, it := range splitList(raw, ",") {
		u, err := url.Parse(it)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" ||
			u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return nil, fmt.Errorf("%q is not an origin like https://wall.example.com", it)
		}
		origin := u.Scheme + "://" + strings.ToLower(u.Host)
		if !slices.Contains(out, origin) {
			out = append(out, origin)
		}
	}
	return out, nil
}

func parseLocation(raw string) (*time.Location, error) {
	if raw == "" {
		return nil, errors.New("must name a time zone, like UTC or Europe/Paris")
	}
	loc, err := time.LoadLocation(raw)
	if err != nil {
		return nil, errors.New("unknown time zone")
	}
	return loc, nil
}

func parseWeekday(raw string) (time.Weekday, error) {
	if d, ok := window.ParseWeekday(raw); ok {
		return d, nil
	}
	return 0, errors.New("must be a weekday, like monday or sunday")
}

func parseBool(raw string) (bool, error) {
	switch strings.ToLower(raw) {
	case "1", "true", "yes":
		return true, nil
	case "0", "false", "no":
		return false, nil
	}
	return false, errors.New("must be one of 1, 0, true, false, yes, no")
}

func parseLogLevel(raw string) (slog.Level, error) {
	if l, ok := levelNames[strings.ToLower(raw)]; ok {
		return l, nil
	}
	return 0, errors.New("must be debug, info, warn or error")
}

func parseLogFormat(raw string) (string, error) {
	switch f := strings.ToLower(raw); f {
	case "text", "json":
		return f, nil
	}
	return "", errors.New("must be text or json")
}

func parseTenant(raw string) (string, error) {
	const want = "must be 1 to 32 characters of a-z, 0-9, _ and -"
	if raw == "" || len(raw) > 32 {
		return "", errors.New(want)
	}
	for _, r := range raw {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "", errors.New(want)
		}
	}
	return raw, nil
}

// parseRollups reads rollups separated by semicolons. The overall rollup
// comes first whether listed or not; the others keep their order, once each.
func parseRollups(schema store.Schema, raw string) ([]store.Rollup, error) {
	all, err := schema.ParseRollup("all")
	if err != nil {
		return nil, err
	}
	out := []store.Rollup{all}
	seen := map[string]bool{all.Name(): true}
	for _, it := range splitList(raw, ";") {
		r, err := schema.ParseRollup(it)
		if err != nil {
			return nil, err
		}
		if !seen[r.Name()] {
			seen[r.Name()] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func parsePositiveInt(raw string) (int, error) {
	n, err := strconv.ParseInt(raw, 10, strconv.IntSize)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive integer")
	}
	return int(n), nil
}

// parseNonNegativeInt reads a count where 0 means "no limit".
func parseNonNegativeInt(raw string) (int, error) {
	n, err := strconv.ParseInt(raw, 10, strconv.IntSize)
	if err != nil || n < 0 {
		return 0, errors.New("must be a whole number, 0 for no limit")
	}
	return int(n), nil
}

// parseNonNegativeFloat reads a rate where 0 means "no limit".
func parseNonNegativeFloat(raw string) (float64, error) {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, errors.New("must be a number, 0 for no limit")
	}
	return f, nil
}

// parseMinReplicas reads how many replicas must acknowledge a batch; 0
// turns the wait off.
func parseMinReplicas(raw string) (int, error) {
	n, err := strconv.ParseInt(raw, 10, strconv.IntSize)
	if err != nil || n < 0 || n > 16 {
		return 0, errors.New("must be a whole number of replicas from 0 (off) to 16")
	}
	return int(n), nil
}

// parseMinReplicasTimeout bounds WAIT; Load also keeps it under
// redis_timeout, past which the wait would fail as a lost connection.
func parseMinReplicasTimeout(raw string) (time.Duration, error) {
	return parseDurationBetween(raw, 10*time.Millisecond, 2*time.Second)
}

func parsePositiveInt64(raw string) (int64, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive integer")
	}
	return n, nil
}

func parsePositiveFloat(raw string) (float64, error) {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return 0, errors.New("must be a positive number")
	}
	return f, nil
}

// parseDuration reads a non-negative Go duration ("90s", "26h", "1h30m"),
// optionally led by a number of days ("400d", "1.5d", "1d12h").
func parseDuration(raw string) (time.Duration, error) {
	bad := errors.New(`must be a duration like 90s, 5m, 26h or 400d`)
	if raw == "" {
		return 0, bad
	}
	rest := raw
	var days time.Duration
	if i := strings.IndexByte(raw, 'd'); i >= 0 {
		num := raw[:i]
		if !isDecimal(num) {
			return 0, bad
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f*float64(day) >= math.MaxInt64 {
			return 0, errors.New("is too long")
		}
		days = time.Duration(f * float64(day))
		rest = raw[i+1:]
		if rest != "" && (rest[0] == '+' || rest[0] == '-') {
			return 0, bad
		}
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, bad
		}
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	if days > math.MaxInt64-d {
		return 0, errors.New("is too long")
	}
	return days + d, nil
}

// isDecimal reports whether s is digits with an optional fractional part.
func isDecimal(s string) bool {
	digits, dot := 0, false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return digits > 0 && s[len(s)-1] != '.'
}

func parsePositiveDuration(raw string) (time.Duration, error) {
	d, err := parseDuration(raw)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}

// parseRetention reads a positive duration of at least min; why says what
// needs it.
func parseRetention(raw string, min time.Duration, why string) (time.Duration, error) {
	d, err := parsePositiveDuration(raw)
	if err != nil {
		return 0, err
	}
	if d < min {
		return 0, fmt.Errorf("must be at least %s: %s", window.FormatLength(min), why)
	}
	return d, nil
}

// byteUnits are the suffixes max_body_bytes accepts.
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10},
	{"MiB", 1 << 20},
	{"GiB", 1 << 30},
	{"B", 1},
}

// maxBodyLimit bounds max_body_bytes.
const maxBodyLimit = 1 << 30

// parseBytes reads a size in bytes: a plain integer, or one followed by B,
// KiB, MiB or GiB ("8MiB", "512 KiB").
func parseBytes(raw string) (int64, error) {
	num, mult := raw, int64(1)
	for _, u := range byteUnits {
		if len(raw) >= len(u.suffix) && strings.EqualFold(raw[len(raw)-len(u.suffix):], u.suffix) {
			num, mult = strings.TrimSpace(raw[:len(raw)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive size in bytes, like 8388608, 512KiB or 8MiB")
	}
	if n > maxBodyLimit/mult {
		return 0, errors.New("must be at most 1GiB")
	}
	return n * mult, nil
}

// parseOptionalFile accepts "" (none) or a path to an existing file.
func parseOptionalFile(raw, what string) (string, error) {
	if raw == "" {
		return "", nil
	}
	st, err := os.Stat(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read the %s: %v", what, err)
	case st.IsDir():
		return "", fmt.Errorf("is a directory, not a %s", what)
	}
	return raw, nil
}

// parseStreamKey accepts a Redis key without spaces or control characters.
func parseStreamKey(raw string) (string, error) {
	if len(raw) > 128 || strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("must be up to 128 characters without spaces")
	}
	return raw, nil
}

// parseSecret accepts "" (off) or a secret of at least 16 printable
// characters.
// parsePublicURL reads the server's public address: http(s), a host, no
// path, query or fragment (links add their own path, and the pages they
// lead to are at the root).
func parsePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must be the server's address, like https://pulse.example.com (no path, no query)", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

func parseSecret(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) < 16 || strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("must be at least 16 characters without spaces")
	}
	return raw, nil
}

// parseBroadcastInterval keeps the tick where boards stay live (≤ 10 s)
// without recomputing faster than screens can show (≥ 50 ms).
func parseBroadcastInterval(raw string) (time.Duration, error) {
	return parseDurationBetween(raw, 50*time.Millisecond, 10*time.Second)
}

// parseDurationBetween reads a duration from lo to hi.
func parseDurationBetween(raw string, lo, hi time.Duration) (time.Duration, error) {
	d, err := parsePositiveDuration(raw)
	if err != nil {
		return 0, err
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("must be between %s and %s", lo, hi)
	}
	return d, nil
}

// parseFrameAncestors accepts the sources of a CSP frame-ancestors
// directive: 'self', 'none' (alone), or origins (scheme://host[:port]).
func parseFrameAncestors(raw string) ([]string, error) {
	srcs := strings.Fields(raw)
	if len(srcs) == 0 {
		return nil, errors.New("must name at least one source ('self', 'none' or an origin)")
	}
	for _, src := range srcs {
		switch src {
		case "'self'":
		case "'none'":
			if len(srcs) > 1 {
				return nil, errors.New("'none' must stand alone")
			}
		default:
			u, err := url.Parse(src)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				return nil, fmt.Errorf("%q is not 'self', 'none' or an origin like https://wall.example.com", src)
			}
		}
	}
	return srcs, nil
}
