package live

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/net/html"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/tilepatch"
	"github.com/pulseboard/pulseboard/views"
)

// hostile are texts a board may show (comments, names, alert texts) that
// would break markup if a patch carried them as markup, or that an HTML
// parser changes (carriage returns, NUL).
var hostile = []string{
	`<script>window.__pwned=1</script>`, `"quoted" & 'single'`, "line\r\nbreak\rold mac", "nul\x00here",
	`&amp; &lt;b&gt;`, `</section><section id="tile-x">`, `<!-- not a comment -->`, "Zoë 😀 ±−—", "  padded  ",
	`onclick=window.__pwned=1`, "tab\there", "\u2028sep", `<img src=x onerror="window.__pwned=1">`, "]]>", "a",
}

// randomBoard is a board whose tiles of every kind change at random from
// one state to the next: numbers move, rows and answers come and go,
// hostile texts appear, a tile empties.
type randomBoard struct {
	rng   *rand.Rand
	title string
	tiles []board.TileView
}

func newRandomBoard(seed uint64) *randomBoard {
	r := &randomBoard{rng: rand.New(rand.NewPCG(seed, 1)), title: "Random board"}
	kinds := []board.Kind{board.Banners, board.Headline, board.Count, board.Breakdown, board.Leaderboard,
		board.Trend, board.Distribution, board.Comments, board.FollowUps, board.Headline, board.Themes,
		board.ResponseRate, board.CSAT, board.ResponseRate, board.CSAT}
	for i, k := range kinds {
		id := fmt.Sprintf("t%d-%s", i, k)
		if k == board.Banners {
			id = board.BannerID
		}
		tv := board.TileView{ID: id, View: k, Title: "Tile " + string(k), Window: "rolling 60 min", Cols: 1, Height: 1}
		if k == board.Themes {
			tv.Height = 2 // five themes: some shown, some not
		}
		if (k == board.ResponseRate || k == board.CSAT) && i%2 == 1 {
			tv.Cols = 2 // rows beside the figure; some shown, some not
		}
		r.tiles = append(r.tiles, tv)
	}
	for range 3 {
		r.step()
	}
	return r
}

func (r *randomBoard) text() string {
	if r.rng.IntN(3) == 0 {
		return hostile[r.rng.IntN(len(hostile))]
	}
	return fmt.Sprintf("word%d", r.rng.IntN(50))
}

func (r *randomBoard) figure(label string) board.Figure {
	var d nps.Distribution
	if r.rng.IntN(8) > 0 {
		n := r.rng.IntN(200)
		for range n {
			d[r.rng.IntN(11)]++
		}
	}
	return board.FigureOf(label, d, board.DefaultThresholds, int64(30))
}

// rows keeps most of the previous rows and their labels (so most steps
// patch them), and now and then adds or drops one.
func (r *randomBoard) rows(prev []board.Row, ranked bool) []board.Row {
	labels := make([]string, 0, len(prev)+1)
	for _, p := range prev {
		labels = append(labels, p.Label)
	}
	switch r.rng.IntN(6) {
	case 0:
		labels = append(labels, r.text())
	case 1:
		if len(labels) > 0 {
			i := r.rng.IntN(len(labels))
			labels = slices.Delete(labels, i, i+1)
		}
	}
	out := make([]board.Row, 0, len(labels))
	for i, l := range labels {
		row := board.Row{Figure: r.figure(l)}
		if ranked {
			row.Rank = i + 1
			if r.rng.IntN(5) == 0 {
				row.Rank = 0
			}
			row.Move, row.New = r.rng.IntN(5)-2, r.rng.IntN(6) == 0
		}
		out = append(out, row)
	}
	return out
}

// step changes about half the tiles.
func (r *randomBoard) step() {
	for i := range r.tiles {
		t := &r.tiles[i]
		if r.rng.IntN(2) == 0 {
			continue
		}
		t.Empty = r.rng.IntN(10) == 0
		if r.rng.IntN(10) == 0 {
			t.Window = r.text()
		}
		if r.rng.IntN(20) == 0 {
			t.Title = r.text()
		}
		switch t.View {
		case board.Banners:
			t.Banners = nil
			for j := range r.rng.IntN(3) {
				t.Banners = append(t.Banners, board.BannerView{ID: fmt.Sprint("a", j), Text: r.text()})
			}
		case board.Headline, board.Count:
			f := r.figure("")
			t.Figure = &f
			t.Change, t.Rate = nil, nil
			if t.View == board.Headline && r.rng.IntN(3) > 0 {
				t.Rate = &board.RateView{ShareFigure: r.share("")}
			}
			if r.rng.IntN(3) > 0 {
				t.Change = &board.ChangeView{Delta: board.FormatScore(float64(r.rng.IntN(21) - 10)), Significant: r.rng.IntN(2) == 0, Against: "previous 60 min"}
			}
		case board.Breakdown, board.Leaderboard:
			t.Rows = r.rows(t.Rows, t.View == board.Leaderboard)
		case board.Trend:
			n := len(t.Points)
			if n == 0 || r.rng.IntN(5) == 0 {
				n = r.rng.IntN(8)
			}
			t.Points = make([]board.Point, n)
			for j := range t.Points {
				f := r.figure("")
				t.Points[j] = board.Point{Label: fmt.Sprintf("%02d:00", j), NPS: f.NPS, Responses: f.Responses, Band: f.Band}
			}
		case board.Distribution:
			f := r.figure("")
			var d board.DistView
			for j := range d.Shares {
				d.Counts[j] = int64(r.rng.IntN(40))
				d.Shares[j] = float64(r.rng.IntN(10000)) / 100
			}
			d.Mean, d.Responses = fmt.Sprintf("%.1f", r.rng.Float64()*10), f.Responses
			t.Distribution = &d
		case board.Comments:
			n := len(t.Answers)
			if n == 0 || r.rng.IntN(3) == 0 {
				n = r.rng.IntN(5)
			}
			t.Answers = make([]board.AnswerView, n)
			for j := range t.Answers {
				t.Answers[j] = board.AnswerView{At: fmt.Sprintf("12:%02d", r.rng.IntN(60)), Score: r.rng.IntN(11), Class: "detractor",
					Channel: "chat", Team: r.text(), Comment: r.text()}
				if r.rng.IntN(2) == 0 {
					t.Answers[j].Agent = r.text()
				}
			}
		case board.FollowUps:
			fu := &board.FollowUpsView{Open: r.rng.IntN(30), Overdue: r.rng.IntN(5), Partial: r.rng.IntN(8) == 0,
				Closed: r.rng.IntN(20), InSLA: r.rng.IntN(20), SLAShare: fmt.Sprintf("%d%%", r.rng.IntN(101)), SLABand: board.Watch}
			for j := range r.rng.IntN(3) {
				it := board.FollowUpRow{ID: fmt.Sprint("f", j), Age: fmt.Sprintf("%d min", r.rng.IntN(90)), Score: r.rng.IntN(7),
					Team: r.text(), Channel: "phone", Overdue: r.rng.IntN(3) == 0}
				if r.rng.IntN(2) == 0 {
					it.ClaimedBy = r.text()
				}
				fu.Items = append(fu.Items, it)
			}
			t.FollowUps = fu
		case board.Themes:
			t.Themes = r.themes(t.Themes)
			t.Empty = len(t.Themes.Themes) == 0
		case board.ResponseRate:
			var prev []board.ShareFigure
			if t.Rate != nil {
				prev = t.Rate.Rows
			}
			t.Rate = &board.RateView{ShareFigure: r.share(""), Rows: r.shareRows(prev)}
			t.Empty = t.Rate.Whole == 0
		case board.CSAT:
			var prev []board.ShareFigure
			if t.CSAT != nil {
				prev = t.CSAT.Rows
			}
			c := &board.CSATView{ShareFigure: r.share(""), Rows: r.shareRows(prev)}
			for j := range c.Counts {
				c.Counts[j] = int64(r.rng.IntN(40))
				c.Shares[j] = float64(r.rng.IntN(10000)) / 100
			}
			t.CSAT, t.Empty = c, c.Whole == 0
		}
	}
}

// share is a random share, now and then of nothing.
func (r *randomBoard) share(label string) board.ShareFigure {
	whole := int64(0)
	if r.rng.IntN(8) > 0 {
		whole = int64(r.rng.IntN(3000))
	}
	part := int64(0)
	if whole > 0 {
		part = r.rng.Int64N(whole + 1)
	}
	return board.ShareOf(label, part, whole, 30)
}

// shareRows keeps most of the previous rows and their labels, and now and
// then adds or drops one.
func (r *randomBoard) shareRows(prev []board.ShareFigure) []board.ShareFigure {
	labels := make([]string, 0, len(prev)+1)
	for _, p := range prev {
		labels = append(labels, p.Label)
	}
	switch r.rng.IntN(5) {
	case 0:
		labels = append(labels, r.text())
	case 1:
		if len(labels) > 0 {
			i := r.rng.IntN(len(labels))
			labels = slices.Delete(labels, i, i+1)
		}
	}
	out := make([]board.ShareFigure, 0, len(labels))
	for _, l := range labels {
		out = append(out, r.share(l))
	}
	return out
}

// themes keeps most of the previous themes (so most steps patch them),
// with new counts, and now and then adds or drops one.
func (r *randomBoard) themes(prev *board.ThemesView) *board.ThemesView {
	var names []string
	if prev != nil {
		for _, th := range prev.Themes {
			names = append(names, th.Label)
		}
	}
	switch r.rng.IntN(5) {
	case 0:
		names = append(names, r.text())
	case 1:
		if len(names) > 0 {
			i := r.rng.IntN(len(names))
			names = slices.Delete(names, i, i+1)
		}
	}
	v := &board.ThemesView{Responses: int64(100 + r.rng.IntN(2000))}
	for i, l := range names {
		d := int64(r.rng.IntN(40))
		impact := 100 * float64(d) / float64(v.Responses)
		v.Themes = append(v.Themes, board.ThemeRow{Name: fmt.Sprint("th", i), Label: l, Detractors: d,
			Passives: int64(r.rng.IntN(9)), Promoters: int64(r.rng.IntN(3)), Impact: impact, Points: board.FormatImpact(impact)})
	}
	slices.SortStableFunc(v.Themes, func(a, b board.ThemeRow) int { return cmp.Compare(b.Impact, a.Impact) })
	return v
}

func (r *randomBoard) view() board.View {
	return board.View{Board: "floor", Title: r.title, Tiles: slices.Clone(r.tiles)}
}

// canonical writes a parsed tile with its attributes sorted: two DOMs are
// equal (as the DOM's isEqualNode has it) when their canonical forms are.
func canonical(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			fmt.Fprintf(&b, "%q", n.Data)
			return
		case html.ElementNode:
			attrs := slices.Clone(n.Attr)
			sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
			fmt.Fprintf(&b, "<%s:%s", n.Namespace, n.Data)
			for _, a := range attrs {
				fmt.Fprintf(&b, " %s=%q", a.Key, a.Val)
			}
			b.WriteString(">")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		b.WriteString("</>")
	}
	walk(n)
	return b.String()
}

// freshTile is what a snapshot of the tile renders, parsed.
func freshTile(t testing.TB, tv board.TileView) *html.Node {
	t.Helper()
	markup, err := views.TileHTML(tv)
	if err != nil {
		t.Fatal(err)
	}
	n, err := tilepatch.Parse(markup)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wireTileV2 is a v2 tile as a client reads it.
type wireTileV2 struct {
	ID    string         `json:"id"`
	HTML  string         `json:"html"`
	Patch []tilepatch.Op `json:"patch"`
}

// goScreen is a v2 client in Go: it holds each tile parsed, takes
// snapshots whole and applies updates' patches with tilepatch.Apply, as
// static/board.js does in a browser.
type goScreen struct {
	epoch   string
	seq     uint64
	tiles   map[string]*html.Node
	patched int // tiles updated by a patch
	whole   int // tiles updated whole
	bytes   []int
}

func (s *goScreen) take(data []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(data, &e); err != nil {
		return e, err
	}
	if e.V != ProtocolV2 {
		return e, fmt.Errorf("%s message of version %d on a v2 socket", e.Type, e.V)
	}
	switch e.Type {
	case TypeSnapshot:
		s.epoch, s.seq, s.tiles = e.Epoch, e.Seq, map[string]*html.Node{}
	case TypeUpdate:
		if e.Epoch != s.epoch || e.Seq != s.seq+1 {
			return e, fmt.Errorf("update %s/%d after %s/%d", e.Epoch, e.Seq, s.epoch, s.seq)
		}
		s.seq = e.Seq
		s.bytes = append(s.bytes, len(data))
	default:
		return e, nil
	}
	for _, raw := range e.Tiles {
		var t wireTileV2
		if err := json.Unmarshal(raw, &t); err != nil {
			return e, err
		}
		if t.Patch != nil {
			root := s.tiles[t.ID]
			if root == nil {
				return e, fmt.Errorf("patch of tile %s the screen does not have", t.ID)
			}
			if err := tilepatch.Apply(root, t.Patch); err != nil {
				return e, fmt.Errorf("tile %s: %w", t.ID, err)
			}
			s.patched++
			continue
		}
		if strings.Contains(string(raw), `"view"`) {
			return e, fmt.Errorf("v2 tile %s carries its view model", t.ID)
		}
		root, err := tilepatch.Parse(t.HTML)
		if err != nil {
			return e, fmt.Errorf("tile %s: %w", t.ID, err)
		}
		s.tiles[t.ID] = root
		if e.Type == TypeUpdate {
			s.whole++
		}
	}
	return e, nil
}

// patchServer serves the floor board's socket from a real broadcaster
// that renders markup, as the server does, for a test to publish views
// into.
func patchServer(tb testing.TB) (*Broadcaster, *httptest.Server, *storetest.Clock) {
	tb.Helper()
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	opts := storetest.Options(tb, clock)
	eng := memstore.New(opts)
	tb.Cleanup(func() { eng.Close() })
	agg := aggregate.New(eng, opts, opts.Rollups, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	go agg.Run(ctx)
	for !agg.Status().Ready {
		time.Sleep(time.Millisecond)
	}
	defs, err := board.Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		tb.Fatal(err)
	}
	reg := boards.New(agg, board.Computer{Calendar: opts.Calendar, MinSample: 30}, defs)
	bc := New(agg, reg, Options{Now: clock.Now, RenderTile: views.TileHTML})
	mux := http.NewServeMux()
	mux.HandleFunc("/boards/floor/live", func(w http.ResponseWriter, r *http.Request) {
		if err := bc.Serve(w, r, "floor", nil); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	tb.Cleanup(bc.Close)
	return bc, srv, clock
}

func dialVersion(t *testing.T, srv *httptest.Server, query string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/boards/floor/live"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readMsg(t *testing.T, conn *websocket.Conn) []byte {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A v2 screen that applies the patches shows, after every update, exactly
// the markup a fresh snapshot renders, for random sequences of board
// states (every tile kind; numbers, rows and answers changing, rows
// appearing and disappearing, hostile texts, stale flags); a v1 screen on
// the same board gets the same seqs, whole tiles, as before v2.
func TestV2PatchesRebuildWhatASnapshotShows(t *testing.T) {
	bc, srv, clock := patchServer(t)
	h := bc.hubs["floor"]
	v2 := dialVersion(t, srv, "?v=2")
	v1 := dialVersion(t, srv, "?v=1")
	scr := &goScreen{}
	if e, err := scr.take(readMsg(t, v2)); err != nil || e.Type != TypeSnapshot {
		t.Fatalf("first v2 message %q, %v: want a snapshot", e.Type, err)
	}
	readMsg(t, v1)
	var v1Bytes []int
	stale := false
	for seed := range uint64(8) {
		rb := newRandomBoard(seed)
		rb.title = fmt.Sprint("Random board ", seed) // a new title: the next message is a snapshot
		for step := range 30 {
			if step > 0 {
				rb.step()
			}
			if rb.rng.IntN(8) == 0 {
				stale = !stale
			}
			view := rb.view()
			clock.Advance(time.Second)
			targets, err := h.publish(view, views.TileHTML, "e1", stale, clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(targets) == 0 {
				continue // nothing changed: no message
			}
			deliver(targets)
			h.mu.Lock()
			after := h.seq
			h.mu.Unlock()
			e, err := scr.take(readMsg(t, v2))
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			// After each board's first state, nothing but updates: a
			// snapshot here (a screen resynced) would test nothing.
			if want := map[bool]string{true: TypeSnapshot, false: TypeUpdate}[step == 0]; e.Type != want {
				t.Fatalf("seed %d step %d: a %s, want a %s", seed, step, e.Type, want)
			}
			if e.Seq != after || e.Stale != stale {
				t.Fatalf("seed %d step %d: v2 %s seq %d stale %v, want seq %d stale %v", seed, step, e.Type, e.Seq, e.Stale, after, stale)
			}
			for _, tv := range view.Tiles {
				got, want := scr.tiles[tv.ID], freshTile(t, tv)
				if got == nil || canonical(got) != canonical(want) {
					t.Fatalf("seed %d step %d: tile %s after the %s differs from a fresh snapshot's\n got %s\nwant %s",
						seed, step, tv.ID, e.Type, canonical(got), canonical(want))
				}
			}
			raw := readMsg(t, v1)
			var e1 Envelope
			if err := json.Unmarshal(raw, &e1); err != nil {
				t.Fatal(err)
			}
			if e1.V != 0 || e1.Seq != after || e1.Type != e.Type || strings.Contains(string(raw), `"v":`) {
				t.Fatalf("v1 %s seq %d v %d, want the v2 screen's %s seq %d, and no version field", e1.Type, e1.Seq, e1.V, e.Type, after)
			}
			if e1.Type == TypeUpdate {
				v1Bytes = append(v1Bytes, len(raw))
			}
		}
	}
	t.Logf("updates: %d tiles patched, %d whole; v2 update median %d bytes, v1 %d", scr.patched, scr.whole, median(scr.bytes), median(v1Bytes))
	if updated := scr.patched + scr.whole; scr.patched*3 < updated {
		t.Fatalf("%d tiles patched against %d whole: under a third patched, the property is hardly tested", scr.patched, scr.whole)
	}
}

func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// The example in docs/PROTOCOL.md ("Patches") is what the server sends.
func TestProtocolPatchExample(t *testing.T) {
	tile := func(nps float64, score string) board.TileView {
		f := board.Figure{NPS: &nps, Score: score, Margin: "±3", Responses: 2633, Band: board.Good, Promoters: 53.9, Passives: 28.6, Detractors: 17.6}
		return board.TileView{ID: "nps-1h", View: board.Headline, Title: "Last hour", Window: "rolling 60 min", Cols: 1, Height: 1, Figure: &f}
	}
	ops, ok := tilepatch.Diff(freshTile(t, tile(36.31, "+36")), freshTile(t, tile(36.52, "+37")))
	data, err := tilepatch.Marshal(ops)
	if !ok || err != nil || string(data) != `[[8,"a","data-num","36.52"],[9,"t","+37"]]` {
		t.Fatalf("patch %s (%v, %v), want the one docs/PROTOCOL.md shows", data, ok, err)
	}
}
