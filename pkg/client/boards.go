package client

import (
	"context"
	"net/url"
	"strings"
)

// BoardList is the answer of GET /api/v1/boards.
type BoardList struct {
	// Boards lists every board, the boards of templates included.
	Boards []BoardSummary `json:"boards"`
	// Templates lists each template with its boards.
	Templates []TemplateSummary `json:"templates"`
}

// BoardSummary names a board and its addresses.
type BoardSummary struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	URL   string `json:"url"`  // the page
	Live  string `json:"live"` // the WebSocket
	// Template and Value name a template's board's template and value.
	Template string `json:"template,omitempty"`
	Value    string `json:"value,omitempty"`
}

// TemplateSummary is a template: one board per value of a dimension.
type TemplateSummary struct {
	Name    string         `json:"name"`
	Title   string         `json:"title"`
	ForEach ForEach        `json:"for_each"`
	Boards  []BoardSummary `json:"boards"`
	// PrivateBoards counts the boards not listed: a private template's
	// boards are only counted for a request that may not see its values.
	PrivateBoards int `json:"private_boards,omitempty"`
}

// ForEach is what a template makes a board for: each value of Dimension,
// or only Values when the definition lists them (and the request may see
// them).
type ForEach struct {
	Dimension string   `json:"dimension"`
	Values    []string `json:"values,omitempty"`
}

// Board is the answer of GET /api/v1/boards/{name}: the view a screen of
// the board shows now (docs/PROTOCOL.md describes the tiles).
type Board struct {
	Board string `json:"board"`
	Title string `json:"title"`
	Tiles []Tile `json:"tiles"`
	// Epoch names one continuous history of the server's numbers; Stale is
	// true while the server cannot read its store; Ready is false while
	// its numbers are still loading.
	Epoch string `json:"epoch"`
	Stale bool   `json:"stale"`
	Ready bool   `json:"ready"`
}

// Tile is one tile. Which fields are set depends on View.
type Tile struct {
	ID     string `json:"id"`
	View   string `json:"view"` // headline, count, breakdown, leaderboard, funnel, themes, response_rate, csat, trend, distribution, comments, followups, banners
	Title  string `json:"title"`
	Window string `json:"window,omitempty"`
	Cols   int    `json:"cols"`
	Height int    `json:"height"`

	Figure       *Figure        `json:"figure,omitempty"`
	Change       *Change        `json:"change,omitempty"`
	Rows         []Row          `json:"rows,omitempty"`
	Points       []Point        `json:"points,omitempty"`
	Distribution *Distribution  `json:"distribution,omitempty"`
	Answers      []Answer       `json:"answers,omitempty"`
	FollowUps    *FollowUpsTile `json:"follow_ups,omitempty"`
	Banners      []Banner       `json:"banners,omitempty"`
	Funnel       *Funnel        `json:"funnel,omitempty"`
	Themes       *Themes        `json:"themes,omitempty"`
	// Rate is a response_rate tile's, and a headline's when surveys were
	// offered in its scope.
	Rate  *TileRate `json:"rate,omitempty"`
	CSAT  *TileCSAT `json:"csat,omitempty"`
	Empty bool      `json:"empty,omitempty"`
}

// TileShare is a share with its 95% Wilson interval as a tile shows it: a
// response rate (answered of offered) or a CSAT (satisfied, 4 or 5, of
// answers). (ResponseRate and CSAT are the API's groups'.)
type TileShare struct {
	Label string `json:"label"` // the group's value in a row
	Part  int64  `json:"part"`
	Whole int64  `json:"whole"`
	// Value, Low and High are percent, nil when Whole is 0.
	Value     *float64 `json:"value"`
	Low       *float64 `json:"low"`
	High      *float64 `json:"high"`
	Percent   string   `json:"percent"`  // "23%", "—"
	Interval  string   `json:"interval"` // "21–25%"
	LowSample bool     `json:"low_sample"`
}

// TileRate is a response rate: of the tile's scope, and with by its rows.
type TileRate struct {
	TileShare
	Rows []TileShare `json:"rows,omitempty"`
}

// TileCSAT is a csat tile: the share, the answers by score (1 first) and
// with by its rows.
type TileCSAT struct {
	TileShare
	Counts [5]int64    `json:"counts"`
	Shares [5]float64  `json:"shares"`
	Rows   []TileShare `json:"rows,omitempty"`
}

// Figure is a score as a screen shows it.
type Figure struct {
	Label      string   `json:"label"`
	NPS        *float64 `json:"nps"`
	Score      string   `json:"score"`  // "+32", "−8", "—"
	Margin     string   `json:"margin"` // "±11"
	Responses  int64    `json:"responses"`
	LowSample  bool     `json:"low_sample"`
	Band       string   `json:"band"` // good, watch, poor, none
	Bar        float64  `json:"bar"`
	Promoters  float64  `json:"promoters"`
	Passives   float64  `json:"passives"`
	Detractors float64  `json:"detractors"`
}

// Change compares a headline with the seven days before its window.
type Change struct {
	Delta       string `json:"delta"`
	Significant bool   `json:"significant"`
	Against     string `json:"against"` // "last 7 days"
}

// Row is a line of a breakdown or a leaderboard.
type Row struct {
	Figure
	// Rank is 1-based on leaderboards, by Estimate; 0 for a row in line
	// with the tile's groups pooled, below the minimum sample, or on a
	// breakdown.
	Rank int `json:"rank,omitempty"`
	// Estimate is a leaderboard row's NPS shrunk towards the tile's groups
	// pooled ("+41"), Interval its 95% range ("+30 to +52"); InLine marks
	// a row whose interval holds the pooled NPS (shown unranked).
	Estimate string `json:"estimate,omitempty"`
	Interval string `json:"interval,omitempty"`
	InLine   bool   `json:"in_line,omitempty"`
	Move     int    `json:"move,omitempty"`
	New      bool   `json:"new,omitempty"`
}

// Funnel is a funnel tile's plot: every group's NPS against its number of
// answers, inside the limits a group of that size drawn from the tile's
// groups pooled would stay within (docs/PROTOCOL.md describes it).
type Funnel struct {
	Center float64       `json:"center"` // the pooled NPS
	Score  string        `json:"score"`  // Center as shown
	Points []FunnelPoint `json:"points"` // largest first
	Limits []FunnelLimit `json:"limits"` // sampled along n, for drawing
	// Below and Above count the groups outside the 95% limits.
	Below int `json:"below"`
	Above int `json:"above"`
}

// FunnelPoint is one group of a funnel.
type FunnelPoint struct {
	Label     string  `json:"label"`
	Responses int64   `json:"responses"`
	NPS       float64 `json:"nps"`
	Score     string  `json:"score"`
	Position  string  `json:"position"` // far-below, below, within, above, far-above
}

// FunnelLimit is a funnel's 95% and 99.8% limits at N answers.
type FunnelLimit struct {
	N       float64 `json:"n"`
	Low95   float64 `json:"low95"`
	High95  float64 `json:"high95"`
	Low998  float64 `json:"low998"`
	High998 float64 `json:"high998"`
}

// Themes is a themes tile: every theme the comments in its scope have,
// the costliest first (docs/PROTOCOL.md describes it).
type Themes struct {
	// Responses is every answer in the tile's scope, with a comment or not.
	Responses int64   `json:"responses"`
	Themes    []Theme `json:"themes"`
}

// Theme is one theme of a themes tile: who mentioned it, and Impact, the
// NPS points its detractors cost the scope (100·Detractors/Responses: what
// the NPS would gain had they been passives).
type Theme struct {
	Name       string  `json:"name"`
	Label      string  `json:"label"`
	Detractors int64   `json:"detractors"`
	Passives   int64   `json:"passives"`
	Promoters  int64   `json:"promoters"`
	Impact     float64 `json:"impact"`
	Points     string  `json:"points"` // Impact as shown, a loss: "−4.2"
}

// Point is one step of a trend.
type Point struct {
	Label     string   `json:"label"`
	NPS       *float64 `json:"nps"`
	Responses int64    `json:"responses"`
	Band      string   `json:"band"`
}

// Distribution is the 0..10 histogram of a distribution tile.
type Distribution struct {
	Counts    [11]int64   `json:"counts"`
	Shares    [11]float64 `json:"shares"`
	Mean      string      `json:"mean"`
	Responses int64       `json:"responses"`
}

// Answer is one answer of a comments feed.
type Answer struct {
	At      string `json:"at"`
	Score   int    `json:"score"`
	Class   string `json:"class"`
	Channel string `json:"channel,omitempty"`
	Team    string `json:"team,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Comment string `json:"comment"`
}

// FollowUpsTile is the follow-up queue of a followups tile.
type FollowUpsTile struct {
	Open     int           `json:"open"`
	Claimed  int           `json:"claimed"`
	Overdue  int           `json:"overdue"`
	Partial  bool          `json:"partial,omitempty"`
	Items    []FollowUpRow `json:"items"`
	Closed   int           `json:"closed"`
	InSLA    int           `json:"in_sla"`
	SLAShare string        `json:"sla_share"`
	SLABand  string        `json:"sla_band"`
}

// FollowUpRow is one waiting detractor on a followups tile.
type FollowUpRow struct {
	ID        string `json:"id"`
	Age       string `json:"age"`
	Score     int    `json:"score"`
	Team      string `json:"team,omitempty"`
	Channel   string `json:"channel,omitempty"`
	Agent     string `json:"agent,omitempty"`
	Comment   string `json:"comment,omitempty"`
	ClaimedBy string `json:"claimed_by,omitempty"`
	Overdue   bool   `json:"overdue,omitempty"`
}

// Banner is one active threshold alert on a board.
type Banner struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Boards lists the boards (GET /api/v1/boards).
func (c *Client) Boards(ctx context.Context) (BoardList, error) {
	var out BoardList
	return out, c.getJSON(ctx, "/api/v1/boards", nil, &out)
}

// Board reads a board's view (GET /api/v1/boards/{name}). The board of a
// template is "template/value", as BoardSummary.Name has it; the value is
// escaped as one path segment, whatever it holds.
func (c *Client) Board(ctx context.Context, name string) (Board, error) {
	path := "/api/v1/boards/"
	if tpl, value, ok := strings.Cut(name, "/"); ok {
		path += url.PathEscape(tpl) + "/" + url.PathEscape(value)
	} else {
		path += url.PathEscape(name)
	}
	var out Board
	return out, c.getJSON(ctx, path, nil, &out)
}
