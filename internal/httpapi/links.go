package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/claimlink"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/redact"
	"github.com/pulseboard/pulseboard/internal/session"
	"github.com/pulseboard/pulseboard/views"
)

// The claim links of chat messages (internal/claimlink, docs/SECURITY.md):
// GET /links/claim/{id}?exp=…&sig=… shows the follow-up and a button, and
// POST to the same address claims it for whoever clicks, then opens the
// inbox. The link is the permission: signed for one follow-up and the one
// action, until it expires. Chat apps fetch links to preview them, so the
// GET changes nothing.
//
// Who claims: a signed-in person (session, SSO proxy header, viewer token)
// under their own name; anybody else types a name once, kept in a cookie
// for the next link. The POST is a state change from a browser, so it is
// checked like every other: Origin, and a CSRF token (the session's, or for
// somebody not signed in a token bound to a random cookie of this browser).

// Cookies of the claim page, scoped to the links' path.
const (
	claimerCookie  = "pb_claimer"
	linkCSRFCookie = "pb_link_csrf"
	linksPath      = "/links/"
	// claimerMaxAge: a name is remembered for a year of links.
	claimerMaxAge = 365 * 24 * time.Hour
)

// linkFor is a checked link: the follow-up it is for, as it is now.
type linkFor struct {
	svc  Alerts
	item alert.Item
	// self is the link's own address (path and query), where the form
	// posts.
	self string
}

// checkLink verifies the request's link. A link that does not work is
// answered here with a page that says why (ok false).
func (a *API) checkLink(c echo.Context) (linkFor, bool, error) {
	refuse := func(code int, msg, hint string) (linkFor, bool, error) {
		noStore(c)
		return linkFor{}, false, render(c, code, views.Claim(views.ClaimPage{Error: msg, Hint: hint, InboxHref: inboxPath}))
	}
	svc, err := a.alerts()
	if err != nil {
		return linkFor{}, false, err
	}
	if c.Param("action") != claimlink.ActionClaim {
		return refuse(http.StatusNotFound, "This link does nothing Pulseboard knows.", "Claim links end in /links/claim/ and the follow-up's id. Copy the whole link from the message.")
	}
	id, err := pathID(c)
	if err != nil {
		return refuse(http.StatusBadRequest, "This link names no follow-up.", "Copy the whole link from the message.")
	}
	q := c.Request().URL.Query()
	exp, err := a.links.Verify(claimlink.ActionClaim, id, q.Get(claimlink.ParamExpires), q.Get(claimlink.ParamSignature), a.Now())
	switch {
	case errors.Is(err, claimlink.ErrMalformed):
		return refuse(http.StatusBadRequest, "This link is incomplete: its exp or sig part is missing or cut short.", "Copy the whole link from the message, or open the follow-up in the inbox.")
	case errors.Is(err, claimlink.ErrSignature):
		a.Logger.Warn("claim link refused: bad signature", slog.String("peer", c.Request().RemoteAddr))
		return refuse(http.StatusForbidden, "This link is not valid: it was changed, or it is for another follow-up or action.", "Use the link of the message as it is, or open the follow-up in the inbox.")
	case errors.Is(err, claimlink.ErrExpired):
		loc := a.Calendar.Location()
		return refuse(http.StatusGone, "This link expired on "+exp.In(loc).Format("Mon 2 Jan 15:04")+" ("+loc.String()+").", "Claim the follow-up in the inbox instead.")
	case err != nil:
		return linkFor{}, false, err
	}
	it, err := svc.FollowUp(c.Request().Context(), id)
	if errors.Is(err, alert.ErrNotFound) {
		return refuse(http.StatusNotFound, "This follow-up is no longer kept.", "Resolved follow-ups are dropped after a while; the inbox lists those that are left.")
	}
	if err != nil {
		return linkFor{}, false, alertsFault(err, id)
	}
	return linkFor{svc: svc, item: it, self: c.Request().URL.RequestURI()}, true, nil
}

// inboxOf is the inbox view that shows a follow-up: its queue and status.
func inboxOf(it alert.Item, done bool) string {
	q := url.Values{"queue": {it.Queue}}
	switch {
	case done:
		q.Set("done", "claimed")
		q.Set("id", it.ID)
	case it.Status == alert.Resolved:
		q.Set("status", "resolved")
	case it.Status == alert.Claimed:
		q.Set("status", "claimed")
	}
	return inboxPath + "?" + q.Encode()
}

// getLink answers GET /links/{action}/{id}: the follow-up and the claim
// button; a follow-up claimed or resolved already opens in the inbox.
func (a *API) getLink(c echo.Context) error {
	l, ok, err := a.checkLink(c)
	if !ok {
		return err
	}
	if l.item.Status != alert.Open {
		return c.Redirect(http.StatusSeeOther, inboxOf(l.item, false))
	}
	page, err := a.claimPage(c, l)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Claim(page))
}

// claimPage is the page of a valid link to an open follow-up.
func (a *API) claimPage(c echo.Context, l linkFor) (views.ClaimPage, error) {
	p, err := a.principal(c)
	if err != nil {
		return views.ClaimPage{}, err
	}
	f := l.item
	summary := fmt.Sprintf("Detractor %d/10", f.Score)
	for _, v := range []string{f.Team, f.Channel, f.Journey} {
		if v != "" {
			summary += " · " + v
		}
	}
	summary += " · " + board.FormatAge(a.Now().Sub(f.At)) + " ago"
	page := views.ClaimPage{Summary: summary, Comment: redact.Comment(f.Comment), Action: l.self, InboxHref: inboxPath}
	noStore(c)
	if p.Name != "" {
		page.FixedName, page.CSRF = p.Name, p.CSRF
		return page, nil
	}
	if ck, err := c.Cookie(claimerCookie); err == nil {
		if name, err := url.QueryUnescape(ck.Value); err == nil && validClaimer(name) == "" {
			page.Name = name
		}
	}
	page.CSRF = a.linkCSRF(c)
	return page, nil
}

// linkCSRF is the CSRF token of a browser that is not signed in: a digest
// of a random cookie the browser holds (set here if it has none), which a
// page of another site can neither read nor compute.
func (a *API) linkCSRF(c echo.Context) string {
	ck, err := c.Cookie(linkCSRFCookie)
	if err != nil || len(ck.Value) < 22 || len(ck.Value) > 64 {
		var b [16]byte
		_, _ = rand.Read(b[:])
		ck = &http.Cookie{Name: linkCSRFCookie, Value: base64.RawURLEncoding.EncodeToString(b[:]), Path: linksPath,
			HttpOnly: true, Secure: secureRequest(c.Request()), SameSite: http.SameSiteStrictMode}
		c.SetCookie(ck)
	}
	return a.linkCSRFOf(ck.Value)
}

func (a *API) linkCSRFOf(cookie string) string {
	m := hmac.New(sha256.New, a.linkCSRFKey)
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validClaimer says what is wrong with a typed name ("" if nothing): 1 to
// maxActorChars characters, no control characters.
func validClaimer(name string) string {
	if err := checkActor("name", name, false); err != nil {
		return fmt.Sprintf("Your name: 1 to %d characters.", maxActorChars)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "Your name: letters, digits, spaces and punctuation only."
	}
	return ""
}

// postLink answers POST /links/{action}/{id}: it claims the follow-up for
// the person (the signed-in one, or the name typed) through the API's own
// checks and transition, and opens the inbox. A follow-up someone claimed
// meanwhile opens in the inbox too, where it says who has it.
func (a *API) postLink(c echo.Context) error {
	l, ok, err := a.checkLink(c)
	if !ok {
		return err
	}
	p, err := a.principal(c)
	if err != nil {
		return err
	}
	r := c.Request()
	name := p.Name
	switch {
	case p.CookieAuthenticated():
		if err := a.checkCSRF(c, p); err != nil {
			return err
		}
	case p.Via == ViaBearer:
		// An API client sends its token itself: no forgery to fear.
	default:
		if err := sameOrigin(r); err != nil {
			return err
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxSigninBody)
		if !isForm(r) || r.ParseForm() != nil {
			return fault.New(fault.BadRequest, "the claim form must be application/x-www-form-urlencoded with name and %s", csrfField)
		}
		ck, cerr := c.Cookie(linkCSRFCookie)
		if cerr != nil || ck.Value == "" || !session.CheckCSRF(r.PostForm.Get(csrfField), a.linkCSRFOf(ck.Value)) {
			a.Logger.Warn("claim link: request without a valid CSRF token refused", slog.String("peer", r.RemoteAddr))
			return fault.New(fault.Forbidden, "a claim must come from the claim page with its %s: open the link again and press Claim it", csrfField)
		}
	}
	if name == "" {
		name = strings.TrimSpace(r.PostFormValue("name"))
		if msg := validClaimer(name); msg != "" {
			page, err := a.claimPage(c, l)
			if err != nil {
				return err
			}
			page.Name, page.NameError = name, msg
			return render(c, http.StatusUnprocessableEntity, views.Claim(page))
		}
		c.SetCookie(&http.Cookie{Name: claimerCookie, Value: url.QueryEscape(name), Path: linksPath, MaxAge: int(claimerMaxAge / time.Second),
			HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
	}
	_, err = a.applyChange(c, l.svc, l.item.ID, followUpAction{By: name}, false, claimChange)
	if fe, ok := fault.As(err); ok && fe.Code == fault.Conflict {
		// Claimed by someone else meanwhile, or resolved: the inbox shows
		// who has it.
		it, gerr := l.svc.FollowUp(r.Context(), l.item.ID)
		if gerr != nil {
			return alertsFault(gerr, l.item.ID)
		}
		return c.Redirect(http.StatusSeeOther, inboxOf(it, false))
	}
	if err != nil {
		return err
	}
	a.Logger.Info("follow-up claimed by link", slog.String("follow_up", l.item.ID), slog.String("by", name))
	return c.Redirect(http.StatusSeeOther, inboxOf(l.item, true))
}
