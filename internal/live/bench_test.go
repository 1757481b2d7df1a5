package live

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/views"
)

// floorServer serves the shipped floor board's socket from a real
// broadcaster over a real aggregator and memory engine, telling o (nil:
// nobody) about dropped screens; both stop when the test ends.
func floorServer(tb testing.TB, clock *storetest.Clock, o Observer) (*Broadcaster, *httptest.Server) {
	tb.Helper()
	bc := floorBroadcaster(tb, clock, Options{Observer: o})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = bc.Serve(w, r, "floor", nil)
	}))
	tb.Cleanup(srv.Close)
	tb.Cleanup(bc.Close) // before the server's: it waits for no socket, but ends them
	return bc, srv
}

// floorBroadcaster is floorServer's broadcaster, with opts (Now is the
// clock's), closed when the test ends.
func floorBroadcaster(tb testing.TB, clock *storetest.Clock, o Options) *Broadcaster {
	tb.Helper()
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
	o.Now = clock.Now
	bc := New(agg, reg, o)
	tb.Cleanup(bc.Close)
	return bc
}

// floorView computes the floor board as the registry does for the API.
func floorView(bc *Broadcaster, clock *storetest.Clock) (board.View, aggregate.Status, error) {
	def, _ := bc.boards.Board("floor")
	return bc.boards.Compute(def, clock.Now())
}

// BenchmarkBroadcast measures one board update reaching every connected
// screen: encode once, offer to each queue, one write per socket, over real
// loopback WebSockets. ns/client is the cost per screen per update.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchBroadcast(b, n) })
	}
}

func benchBroadcast(b *testing.B, n int) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := floorServer(b, clock, nil)

	var received atomic.Int64
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for range n {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		if _, _, err := conn.ReadMessage(); err != nil { // the snapshot
			b.Fatal(err)
		}
		go func() {
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	h := bc.hubs["floor"]
	for h.size() < n {
		time.Sleep(time.Millisecond)
	}
	view, st, err := floorView(bc, clock)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		view.Tiles[0].Title = fmt.Sprintf("Last hour %d", i) // one changed tile per update
		targets, err := h.publish(view, nil, st.Epoch, false, clock.Now())
		if err != nil {
			b.Fatal(err)
		}
		deliver(targets)
		want := int64(n) * int64(i+1)
		for received.Load() < want {
			time.Sleep(20 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
}

// BenchmarkBareHub is the yardstick for BenchmarkBroadcast: the plainest
// tuned gorilla hub (a writer goroutine and a buffered channel per
// connection, one prepared message per broadcast, no board logic) sending a
// message of the same size to the same number of loopback clients.
func BenchmarkBareHub(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchBareHub(b, n) })
	}
}

func benchBareHub(b *testing.B, n int) {
	type conn struct {
		send chan *websocket.PreparedMessage
	}
	var conns []*conn
	registered := make(chan *conn, n)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &conn{send: make(chan *websocket.PreparedMessage, sendQueue)}
		go func() {
			defer ws.Close()
			for pm := range c.send {
				_ = ws.SetWriteDeadline(time.Now().Add(writeWait))
				if ws.WritePreparedMessage(pm) != nil {
					return
				}
			}
		}()
		registered <- c
	}))
	defer srv.Close()
	var received atomic.Int64
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for range n {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				received.Add(1)
			}
		}()
		conns = append(conns, <-registered)
	}
	defer func() {
		for _, c := range conns {
			close(c.send)
		}
	}()
	// The size of a real one-tile update of the floor board.
	payload := []byte(`{"type":"update","board":"floor","epoch":"5f3a9c21-1","seq":1,"at":"2026-11-23T15:04:05.123Z","stale":false,"tiles":[{"id":"nps-1h","view":"headline","title":"Last hour 1","window":"rolling 60 min","figure":{"label":"Last hour","nps":null,"score":"—","margin":"","responses":0,"low_sample":true,"band":"none","bar":0,"promoters":0,"passives":0,"detractors":0}}]}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, payload)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range conns {
			select {
			case c.send <- pm:
			default:
			}
		}
		want := int64(n) * int64(i+1)
		for received.Load() < want {
			time.Sleep(20 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
}

// BenchmarkPublishPatches is one board's publish per tick on pulseload's
// board (a headline, a count, a breakdown of four channels) as answers
// arrive, without screens: with v1 screens only, and with v2 screens too,
// whose patches are computed once per tick (parse each changed tile's
// markup, diff it against the last one). The difference is what v2 costs
// the server per board and tick, whatever its number of screens.
func BenchmarkPublishPatches(b *testing.B) {
	for _, v2 := range []bool{false, true} {
		b.Run(fmt.Sprintf("v2=%v", v2), func(b *testing.B) {
			h := newHub(board.Board{Name: "load"}, noObserver{})
			h.screens[ProtocolV1] = 1
			if v2 {
				h.screens[ProtocolV2] = 1
			}
			var dists [5]nps.Distribution
			for i := range dists {
				for s := range 11 {
					dists[i][s] = int64(40 + 7*s + i)
				}
			}
			now := time.Now()
			b.ResetTimer()
			for i := range b.N {
				for k := range 50 { // 200 answers/s, 4 ticks a second
					s, ch := (i*7+k*3)%11, 1+(i+k)%4
					dists[0][s]++
					dists[ch][s]++
				}
				fig := board.FigureOf("", dists[0], board.DefaultThresholds, 30)
				rows := make([]board.Row, 4)
				for c := range rows {
					rows[c] = board.Row{Figure: board.FigureOf([]string{"chat", "email", "phone", "sms"}[c], dists[1+c], board.DefaultThresholds, 30)}
				}
				v := board.View{Board: "load", Title: "load", Tiles: []board.TileView{
					{ID: board.BannerID, View: board.Banners},
					{ID: "nps", View: board.Headline, Window: "rolling 60 min", Cols: 1, Height: 1, Figure: &fig,
						Change: &board.ChangeView{Delta: "+2", Against: "previous 60 min"}},
					{ID: "responses", View: board.Count, Window: "today since 00:00", Cols: 1, Height: 1, Figure: &fig},
					{ID: "channels", View: board.Breakdown, Window: "rolling 60 min", Cols: 1, Height: 1, Rows: rows},
				}}
				if _, err := h.publish(v, views.TileHTML, "e", false, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
