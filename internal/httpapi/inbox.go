package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/redact"
	"github.com/pulseboard/pulseboard/views"
)

// The follow-up inbox page of the supervisor console: GET /console/inbox
// lists the follow-ups of a queue and status (filters in the address);
// POST /console/inbox/{id}/claim, /resolve and /reassign are its forms.
// They run the API's own checks and transitions (followups.go: actAs,
// applyChange, reassign) and answer like a page: 303 back to the same view
// with what was done, or the view again with the error in words.
//
// Viewers and admins only, public_boards or not (routes.go): the inbox
// names who works which customer's complaint, which the follow-ups API
// keeps to them too. A browser that is not signed in is sent to /signin
// and back (requireViewer).

// inboxPath is the page's address.
const inboxPath = "/console/inbox"

// inboxStatuses are the status filter's values (alert.InboxFilter), in the
// order the page offers them.
var inboxStatuses = []views.InboxChoice{
	{Value: "open", Label: "Open (claimed or not)"},
	{Value: "unclaimed", Label: "Unclaimed"},
	{Value: "claimed", Label: "Claimed"},
	{Value: "overdue", Label: "Overdue"},
	{Value: "resolved", Label: "Resolved today"},
}

// inboxDone are the flash messages of the changes, by the done= value of
// the redirect. The message is made here, never taken from the address: a
// link from elsewhere cannot make the page say what it likes.
var inboxDone = map[string]string{
	"claimed":    "You claimed follow-up %s.",
	"resolved":   "You resolved follow-up %s.",
	"reassigned": "Follow-up %s is reassigned.",
}

// inboxView is what one rendering of the page shows.
type inboxView struct {
	status, queue string
	flash, err    string
	code          int
}

// getInbox answers GET /console/inbox?queue=…&status=…(&done=…&id=…).
func (a *API) getInbox(c echo.Context) error {
	v := inboxView{status: c.QueryParam("status"), queue: c.QueryParam("queue"), code: http.StatusOK}
	if msg, ok := inboxDone[c.QueryParam("done")]; ok {
		id := c.QueryParam("id")
		if len(id) > 200 {
			id = id[:200] + "…"
		}
		v.flash = fmt.Sprintf(msg, id)
	}
	return a.renderInbox(c, v)
}

// renderInbox renders the page; a filter that does not exist is said on
// the page (400) and the default shown instead.
func (a *API) renderInbox(c echo.Context, v inboxView) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	p, err := a.principal(c)
	if err != nil {
		return err
	}
	now := a.Now()
	loc := a.Calendar.Location()
	page := views.InboxPage{
		CSRF: a.csrfToken(c), SigninPath: signInHref(inboxPath),
		Flash: v.flash, Error: v.err, Agents: p.MaySeeAgentNames(),
		Updated: now.In(loc).Format("15:04"), Zone: loc.String(),
	}
	noStore(c)
	if !p.MayRead() {
		// A change whose session ended: say so, and how to sign in again.
		return render(c, v.code, views.Inbox(page))
	}
	page.User, page.AskName = p.Label(), p.Name == ""
	bad := func(msg string) {
		page.Error = strings.TrimSpace(page.Error + " " + msg)
		if v.code < 400 {
			v.code = http.StatusBadRequest
		}
	}
	if v.status == "" {
		v.status = "open"
	}
	if !knownStatus(v.status) {
		bad(fmt.Sprintf("There is no status %q; showing the open follow-ups.", v.status))
		v.status = "open"
	}
	queues := svc.Queues()
	if v.queue != "" && !hasQueue(queues, v.queue) {
		bad(fmt.Sprintf("There is no queue %q; showing every queue.", v.queue))
		v.queue = ""
	}
	page.Status, page.Queue, page.Statuses = v.status, v.queue, inboxStatuses
	ctx := c.Request().Context()
	all, err := svc.Inbox(ctx, alert.InboxFilter{Status: v.status})
	if err != nil {
		return alertsFault(err, "")
	}
	list := all
	if v.queue != "" {
		// Its own read: the unfiltered list stops at alert.ListLimit, and
		// a queue's follow-ups may lie beyond.
		if list, err = svc.Inbox(ctx, alert.InboxFilter{Status: v.status, Queue: v.queue}); err != nil {
			return alertsFault(err, "")
		}
	}
	page.AllCount = countLabel(len(all), len(all) >= alert.ListLimit)
	counts := map[string]int{}
	for _, it := range all {
		counts[it.Queue]++
	}
	for _, q := range queues {
		page.Queues = append(page.Queues, views.InboxChoice{Value: q.Name, Label: q.Label, Count: countLabel(counts[q.Name], len(all) >= alert.ListLimit)})
	}
	page.Capped = len(list) >= alert.ListLimit
	labels := map[string]string{}
	for _, q := range queues {
		labels[q.Name] = q.Label
	}
	for _, it := range list {
		page.Items = append(page.Items, inboxItem(it, now, loc, page.Agents, labels))
	}
	return render(c, v.code, views.Inbox(page))
}

// countLabel is a queue's count; "1000+" when the listing was cut.
func countLabel(n int, capped bool) string {
	if capped {
		return fmt.Sprintf("%d+", n)
	}
	return fmt.Sprint(n)
}

func knownStatus(s string) bool {
	for _, st := range inboxStatuses {
		if st.Value == s {
			return true
		}
	}
	return false
}

func hasQueue(qs []alert.Queue, name string) bool {
	for _, q := range qs {
		if q.Name == name {
			return true
		}
	}
	return false
}

// inboxItem is a follow-up as the page shows it. The comment is redacted
// as boards redact it (internal/redact): the page is read at a desk, but
// it may be shown on a shared screen or a screenshot.
func inboxItem(it alert.Item, now time.Time, loc *time.Location, agents bool, labels map[string]string) views.InboxItem {
	base := inboxPath + "/" + url.PathEscape(it.ID)
	v := views.InboxItem{
		ID: it.ID, Score: it.Score, Comment: redact.Comment(it.Comment), Channel: it.Channel, Journey: it.Journey, Team: it.Team,
		QueueLabel: it.QueueLabel, Age: board.FormatAge(now.Sub(it.At)), Overdue: it.Overdue, ClaimedBy: it.ClaimedBy,
		Resolved: it.Status == alert.Resolved, LastStep: lastStep(it.History, loc, labels),
		ClaimPath: base + "/claim", ResolvePath: base + "/resolve", ReassignPath: base + "/reassign",
	}
	if agents {
		v.Agent = it.Agent
	}
	switch {
	case v.Resolved && it.ResolvedAt != nil:
		v.Due = "done " + it.ResolvedAt.In(loc).Format("15:04")
	case it.Due.IsZero():
	case it.Due.After(now):
		v.Due = "in " + board.FormatAge(it.Due.Sub(now))
	default:
		// The page reads "Overdue by 1 h 05".
		v.Due = board.FormatAge(now.Sub(it.Due))
	}
	return v
}

// lastStep says the last thing done to a follow-up, in words, naming
// queues by their labels (a queue no longer configured by its name).
func lastStep(h []alert.Step, loc *time.Location, labels map[string]string) string {
	if len(h) == 0 {
		return ""
	}
	s := h[len(h)-1]
	var b strings.Builder
	b.WriteString(s.At.In(loc).Format("15:04") + " " + s.By + " " + s.Action)
	if s.Queue != "" {
		q := s.Queue
		if l, ok := labels[q]; ok {
			q = l
		}
		b.WriteString(" to " + q)
	}
	switch {
	case s.To != "":
		b.WriteString(" for " + s.To)
	case s.Unclaimed:
		b.WriteString(", unclaimed")
	}
	if s.Note != "" {
		b.WriteString(": " + redact.Comment(s.Note))
	}
	return b.String()
}

// The page's forms: each names the follow-up in the path and carries the
// filters to come back to (queue, status), the CSRF token, and "by" for an
// admin token that names nobody.

func (a *API) postInboxClaim(c echo.Context) error {
	return a.inboxChange(c, "claimed", false, claimChange)
}

func (a *API) postInboxResolve(c echo.Context) error {
	return a.inboxChange(c, "resolved", true, resolveChange)
}

func (a *API) inboxChange(c echo.Context, done string, withNote bool, change followUpChange) error {
	svc, id, form, err := a.inboxForm(c)
	if err != nil {
		return err
	}
	act := followUpAction{By: form.Get("by"), Note: strings.TrimSpace(form.Get("note"))}
	if _, err := a.applyChange(c, svc, id, act, withNote, change); err != nil {
		return err
	}
	return inboxBack(c, form, done, id)
}

func (a *API) postInboxReassign(c echo.Context) error {
	svc, id, form, err := a.inboxForm(c)
	if err != nil {
		return err
	}
	r := alert.Reassignment{By: form.Get("by"), Queue: form.Get("to_queue")}
	if to := strings.TrimSpace(form.Get("to")); to != "" {
		r.Person = &to
	}
	if _, err := a.reassign(c, svc, id, r); err != nil {
		return err
	}
	return inboxBack(c, form, "reassigned", id)
}

// inboxForm reads an action form: the alert state, the id, the fields.
func (a *API) inboxForm(c echo.Context) (Alerts, string, url.Values, error) {
	svc, id, err := a.alertsAndID(c)
	if err != nil {
		return nil, "", nil, err
	}
	form, err := parseInboxForm(c)
	return svc, id, form, err
}

func parseInboxForm(c echo.Context) (url.Values, error) {
	r := c.Request()
	if !isForm(r) {
		return nil, fault.New(fault.Unsupported, "the inbox's forms post application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxAdminBody)
	if err := r.ParseForm(); err != nil {
		return nil, fault.New(fault.BadRequest, "the form could not be read (at most %d bytes)", maxAdminBody)
	}
	return r.PostForm, nil
}

// inboxBack sends the browser back to the view it came from (303, so a
// reload does not post again), saying what was done.
func inboxBack(c echo.Context, form url.Values, done, id string) error {
	q := url.Values{"done": {done}, "id": {id}}
	// Only the filters' own values: the address is built here, never
	// copied, so it cannot lead elsewhere.
	if st := form.Get("status"); knownStatus(st) {
		q.Set("status", st)
	}
	if qu := form.Get("queue"); qu != "" && len(qu) <= 200 {
		q.Set("queue", qu)
	}
	return c.Redirect(http.StatusSeeOther, inboxPath+"?"+q.Encode())
}

// inboxErrors shows a refused change of the inbox's forms on the page, in
// words, with the status the API would answer: a conflict (someone else
// claimed it), a missing CSRF token, a session that ended. It is the
// outermost middleware of the POST routes, so it sees requireViewer's
// refusals too.
func (a *API) inboxErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		fe, ok := fault.As(err)
		if err == nil || !ok || c.Response().Committed {
			return err
		}
		code := statusOf(fe.Code)
		if code >= 500 && fe.Code != fault.Unavailable {
			return err
		}
		// The filters to show again; a form refused before it was read
		// is read here (bounded).
		var form url.Values
		if f, perr := parseInboxForm(c); perr == nil {
			form = f
		}
		msg := fe.Message
		if fe.Code == fault.Unauthorized {
			msg = "You are not signed in (or your session ended): sign in, then try again."
		}
		v := inboxView{status: form.Get("status"), queue: form.Get("queue"), err: msg, code: code}
		if a.renderInbox(c, v) != nil {
			// The page cannot be shown either (the alert state is
			// down): the refusal as problem JSON.
			return err
		}
		return nil
	}
}
