package alert

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// AllowPrivateSetting is the setting that allows receivers on private
// addresses, named in the errors that refuse them.
const AllowPrivateSetting = "PULSEBOARD_ALERT_ALLOW_PRIVATE_RECEIVERS"

// privateKind says why an address is not for receivers ("" when it is
// fine): deliveries carry comments and agent names, and a receiver URL on
// loopback, link-local (cloud metadata) or a private network would let
// whoever sets the URL reach what only the server can.
func privateKind(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsPrivate():
		return "private"
	case a.IsUnspecified(), a.Is4() && a.As4()[0] == 0: // 0.0.0.0/8 reaches this host
		return "unspecified"
	}
	return ""
}

// errPrivate refuses an address.
func errPrivate(host, kind string) error {
	return fmt.Errorf("%s is a %s address; receivers there need %s=true", host, kind, AllowPrivateSetting)
}

// CheckReceivers refuses receivers that name a loopback, link-local,
// private or unspecified address (or localhost) unless
// AllowPrivateReceivers; names that resolve there are refused when a
// delivery dials them.
func (c Config) CheckReceivers() error {
	if c.AllowPrivateReceivers {
		return nil
	}
	for _, list := range c.receivers() {
		for i, raw := range list.urls {
			u, err := url.Parse(raw)
			if err != nil {
				return fmt.Errorf("%s[%d]: %q: %w", list.field, i, raw, err)
			}
			host := u.Hostname()
			kind := ""
			if a, err := netip.ParseAddr(host); err == nil {
				kind = privateKind(a)
			} else if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
				kind = "loopback"
			}
			if kind != "" {
				return fmt.Errorf("%s[%d]: %q: %w", list.field, i, raw, errPrivate(host, kind))
			}
		}
	}
	return nil
}

// receiverList is one configured list of receivers and where it is set.
type receiverList struct {
	field string
	urls  []string
}

// receivers are every configured list of receivers.
func (c Config) receivers() []receiverList {
	out := []receiverList{{"webhooks", c.Webhooks}, {"digest.webhooks", c.Digest.Webhooks}}
	for i, q := range c.Queues {
		out = append(out, receiverList{fmt.Sprintf("queues[%d].webhooks", i), q.Webhooks})
	}
	return out
}

// HasReceivers reports whether any generic webhook receiver is
// configured: their deliveries are signed, so they need the alert secret.
// Slack and Teams receivers verify no signature and need none.
func (c Config) HasReceivers() bool {
	for _, l := range c.receivers() {
		for _, u := range l.urls {
			if c.KindOf(u) == KindWebhook {
				return true
			}
		}
	}
	return false
}

// refusePrivate is a net.Dialer Control: it sees the address actually
// dialled, after name resolution, so a name that resolves to a private
// address (or starts to, DNS rebinding) is refused too.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("alert receiver address %q: %w", address, err)
	}
	if kind := privateKind(a); kind != "" {
		return errPrivate(host, kind)
	}
	return nil
}

// newHTTPClient is the client of deliveries. It follows no redirect: the
// signed body, with comments and agent names, goes to the configured URL
// or nowhere, and a 3xx is a failed attempt like any other non-2xx. It
// uses no proxy from the environment, which would dial the receiver
// beyond the reach of the private-address check.
func newHTTPClient(c Config) *http.Client {
	d := &net.Dialer{Timeout: c.Timeout, KeepAlive: 30 * time.Second}
	if !c.AllowPrivateReceivers {
		d.Control = refusePrivate
	}
	return &http.Client{
		Timeout: c.Timeout,
		Transport: &http.Transport{
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// errRedirect is the failure of an attempt answered with a redirect.
var errRedirect = errors.New("receivers must answer 2xx; redirects are not followed")
