package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NPSQuery is a question to GET /api/v1/nps: a span, a breakdown and
// filters.
type NPSQuery struct {
	// Window is a named window: "15m", "1h", "24h", "today", "7d",
	// "this_week", "last_week", "30d", … (the README lists them). Leave it
	// empty for a range (From, To), or for the server's default (1h).
	Window string
	// From and To are a range instead of a window, on whole minutes; To is
	// exclusive, and a zero To means up to now.
	From, To time.Time
	// By breaks the answer down by these dimensions: one group per
	// combination of values.
	By []string
	// Filters keep the responses whose dimension has the value, as
	// {"team": "billing"}: built-in dimensions or configured ones.
	Filters map[string]string
	// Theme keeps the responses whose comment mentions the theme (a name
	// of the server's themes dictionary, as "billing"; the server refuses
	// another with a 400 that lists them). By may name "theme" too: one
	// group per theme, and since a comment can mention several, those
	// groups overlap and do not add up to the total.
	Theme string
}

// npsParams are the query API's own parameters: no filter may be named
// like one, since the server could not tell them apart.
var npsParams = map[string]bool{"window": true, "from": true, "to": true, "by": true, "format": true}

// Values is the query string of q.
func (q NPSQuery) Values() (url.Values, error) {
	v := url.Values{}
	if q.Window != "" {
		v.Set("window", q.Window)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339))
	}
	if len(q.By) > 0 {
		v.Set("by", strings.Join(q.By, ","))
	}
	for k, val := range q.Filters {
		if npsParams[k] {
			return nil, fmt.Errorf("filter %q: that is a parameter of the query API, not a dimension", k)
		}
		v.Set(k, val)
	}
	if q.Theme != "" {
		if f, ok := q.Filters[themeParam]; ok && f != q.Theme {
			return nil, fmt.Errorf("theme %q and filter theme=%q: name the theme once", q.Theme, f)
		}
		v.Set(themeParam, q.Theme)
	}
	return v, nil
}

// NPS is the answer of GET /api/v1/nps.
type NPS struct {
	// Window is the named window; empty for a range.
	Window string `json:"window,omitempty"`
	// Label says in words what the groups count ("rolling 60 min").
	Label string `json:"label"`
	// From and To are the span counted: the one asked for, unless
	// CoarseEdge.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// CoarseEdge says an edge of the asked span fell where the buckets
	// fine enough for it have expired, so From or To moved out to the edge
	// of the finest bucket still kept; Asked is what was asked.
	CoarseEdge bool    `json:"coarse_edge,omitempty"`
	Asked      *Span   `json:"asked,omitempty"`
	Groups     []Group `json:"groups"`
}

// Span is a time range, To exclusive.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Group is one group of an answer: its key (a value per By dimension) and
// its figures, rounded to two decimals.
type Group struct {
	Key map[string]string `json:"key"`
	// Labels holds the label of the key's theme, as {"theme": "Billing
	// errors"}; nil when the key has no theme.
	Labels     map[string]string `json:"labels,omitempty"`
	Responses  int64             `json:"responses"`
	Promoters  int64             `json:"promoters"`
	Passives   int64             `json:"passives"`
	Detractors int64             `json:"detractors"`
	// NPS is the score; MOE the margin of its 95% adjusted-Wald interval,
	// CILow and CIHigh the interval clipped to [−100, 100]; Mean the
	// average answer. All are nil without responses.
	NPS    *float64 `json:"nps"`
	MOE    *float64 `json:"moe"`
	CILow  *float64 `json:"ci_low"`
	CIHigh *float64 `json:"ci_high"`
	Mean   *float64 `json:"mean"`
	// LowSample marks a group below the server's minimum sample.
	LowSample bool `json:"low_sample"`
	// Distribution counts the answers 0..10.
	Distribution [11]int64 `json:"distribution"`
	// CSAT is the group's satisfaction answers, nil when it has none.
	CSAT *CSAT `json:"csat,omitempty"`
	// ResponseRate is how many of the surveys offered in the span were
	// answered, nil when the group has no offers.
	ResponseRate *ResponseRate `json:"response_rate,omitempty"`
}

// CSAT is a group's customer satisfaction: answers on a 1..5 scale, the
// satisfied ones (4 and 5), and their share in percent with its 95%
// Wilson interval, rounded to two decimals.
type CSAT struct {
	Answers   int64   `json:"answers"`
	Satisfied int64   `json:"satisfied"`
	CSAT      float64 `json:"csat"`
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
	// Distribution counts the answers: index 0 holds the 1s, 4 the 5s.
	Distribution [5]int64 `json:"distribution"`
}

// ResponseRate is a group's surveys offered in the span, how many of them
// were answered (whenever the answer came: an offer counts where and when
// it was made), and the rate in percent with its 95% Wilson interval.
type ResponseRate struct {
	Offered  int64   `json:"offered"`
	Answered int64   `json:"answered"`
	Rate     float64 `json:"rate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

const npsPath = "/api/v1/nps"

// themeParam is the theme filter's parameter.
const themeParam = "theme"

// NPS asks GET /api/v1/nps.
func (c *Client) NPS(ctx context.Context, q NPSQuery) (NPS, error) {
	v, err := q.Values()
	if err != nil {
		return NPS{}, err
	}
	var out NPS
	return out, c.getJSON(ctx, npsPath, v, &out)
}

// NPSCSV asks GET /api/v1/nps as CSV (format=csv) and copies the answer
// to w: a header line, then one line per group. A failure while copying
// is not retried, since part of the answer may have been written.
func (c *Client) NPSCSV(ctx context.Context, q NPSQuery, w io.Writer) error {
	v, err := q.Values()
	if err != nil {
		return err
	}
	v.Set("format", "csv")
	res, err := c.do(ctx, call{method: http.MethodGet, path: npsPath, query: v, accept: "text/csv", idempotent: true})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(w, res.Body); err != nil {
		return fmt.Errorf("GET %s: copy the CSV: %w", npsPath, err)
	}
	return nil
}
