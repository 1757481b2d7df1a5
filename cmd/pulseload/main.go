// Command pulseload measures Pulseboard under load, on loopback only and
// bounded in count and time: it posts responses at a set rate, holds many
// board screens open over WebSockets, and measures how long after an
// answer's acknowledgement each screen shows it. With -server-bin it starts
// the server itself and also reports the server's memory per connection and
// CPU per broadcast tick, read from /proc.
//
// Its yardsticks measure the same screens on the same messages in the same
// run: -bare-hub (the plainest gorilla hub) and -centrifugo (Centrifugo
// v6.9.1, the field's reference server); -compare runs all three. A long
// run with -max-drift is a soak that fails when the server's RSS drifts.
//
// Example (what `make loadtest` runs):
//
//	pulseload -server-bin bin/pulseboard -clients 2000 -boards 20 -rate 200 -duration 30s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"
)

// Bounds that keep a run from harming the machine it runs on.
const (
	maxClients  = 20_000
	maxDuration = time.Hour // a soak's 30 minutes, with room
	maxRate     = 200_000
)

type options struct {
	serverBin   string
	server      string
	redisURL    string
	token       string
	clients     int
	boards      int
	connectRate int
	rate        float64
	batch       int
	concurrency int
	duration    time.Duration
	settle      time.Duration
	interval    string
	spread      time.Duration
	tenant      string
	total       int64
	compress    bool
	stalled     int
	writeBoards string
	cpuProfile  string
	bareHub     bool
	// centrifugo: the screens subscribe to Centrifugo, fed the server's
	// messages (centrifugo.go); centrifugoBin is its binary (default: built
	// into the user's cache directory).
	centrifugo    bool
	centrifugoBin string
	// compare runs Pulseboard, the bare hub and Centrifugo back to back
	// and prints one table (compare.go).
	compare bool
	soak    soakOptions
	// protocol is the live protocol version the screens ask for (?v=).
	protocol int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == bareHubCommand {
		return runBareHub(args[1:], stderr)
	}
	var o options
	fs := flag.NewFlagSet("pulseload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.serverBin, "server-bin", "", "start this pulseboard binary on a free loopback port (and measure its memory and CPU)")
	fs.StringVar(&o.server, "server", "", "or use a running server at this loopback URL, started with -boards <file> (see -write-boards)")
	fs.StringVar(&o.redisURL, "redis-url", "", "with -server-bin: run the server on this Redis (default: memory engine)")
	fs.StringVar(&o.token, "token", "pulseload-ingest-token", "ingest token (with -server-bin the server is given this one)")
	fs.IntVar(&o.clients, "clients", 1000, "WebSocket screens to hold open")
	fs.IntVar(&o.boards, "boards", 20, "boards the screens spread over")
	fs.IntVar(&o.connectRate, "connect-rate", 2000, "screens opened per second")
	fs.Float64Var(&o.rate, "rate", 200, "responses per second to post")
	fs.IntVar(&o.batch, "batch", 10, "responses per request (NDJSON)")
	fs.IntVar(&o.concurrency, "concurrency", 4, "requests in flight")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to post responses")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "idle time after connecting, before measuring memory")
	fs.StringVar(&o.interval, "broadcast-interval", "250ms", "with -server-bin: the server's broadcast interval")
	fs.DurationVar(&o.spread, "spread", 0, "date answers randomly up to this far back (e.g. 720h), to fill history")
	fs.StringVar(&o.tenant, "tenant", "", "with -server-bin and -redis-url: the key namespace (default: a new one per run; reuse one to measure warm-up over data loaded before)")
	fs.Int64Var(&o.total, "total", 0, "stop after this many responses (0: run for -duration)")
	fs.BoolVar(&o.compress, "compress", true, "screens offer permessage-deflate, as browsers do")
	fs.IntVar(&o.protocol, "protocol", 2, "live protocol version the screens ask for (?v=): 2 as the board page does, 1 for the deprecated whole-tile updates; -bare-hub and -centrifugo relay the server's messages in the same version")
	fs.IntVar(&o.stalled, "stalled", 0, "also open this many screens that never read (hung TVs); the others' delays show what they cost")
	fs.BoolVar(&o.bareHub, "bare-hub", false, "the yardstick: screens connect to a bare gorilla hub (a second process of this binary) that relays the server's messages, and memory and CPU are the hub's")
	fs.BoolVar(&o.centrifugo, "centrifugo", false, "the reference server: screens subscribe to Centrifugo "+centrifugoVersion+" (started on loopback), which a relay feeds the server's messages; memory and CPU are Centrifugo's")
	fs.StringVar(&o.centrifugoBin, "centrifugo-bin", "", "the Centrifugo binary (default: built once with go install into the user's cache directory)")
	fs.BoolVar(&o.compare, "compare", false, "run Pulseboard, the bare hub and Centrifugo back to back on the same load and print one table")
	o.soak.flags(fs)
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile here (what the screens cost on the shared cores)")
	fs.StringVar(&o.writeBoards, "write-boards", "", "write the boards file for -boards to this path and exit (for a server started by hand, to profile it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.writeBoards != "" {
		if err := os.WriteFile(o.writeBoards, []byte(boardsYAML(o.boards)), 0o644); err != nil {
			fmt.Fprintln(stderr, "pulseload:", err)
			return 1
		}
		return 0
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "pulseload:", err)
		return 2
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "pulseload:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "pulseload:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.centrifugo || o.compare {
		// Built (once) before any server starts, so the build's minutes
		// fall into no measurement.
		bin, err := centrifugoBinary(ctx, o.centrifugoBin, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "pulseload:", err)
			return 1
		}
		o.centrifugoBin = bin
	}
	if o.compare {
		if err := compare(ctx, o, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "pulseload:", err)
			return 1
		}
		return 0
	}
	r, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "pulseload:", err)
		return 1
	}
	r.print(stdout)
	if err := r.checkDrift(); err != nil {
		fmt.Fprintln(stderr, "pulseload:", err)
		return 1
	}
	return 0
}

func (o options) check() error {
	switch {
	case (o.serverBin == "") == (o.server == ""):
		return fmt.Errorf("give exactly one of -server-bin or -server")
	case o.clients < 0 || o.clients > maxClients:
		return fmt.Errorf("-clients must be 0 to %d", maxClients)
	case o.stalled < 0 || o.stalled > maxClients-o.clients:
		return fmt.Errorf("-stalled must be 0 to %d (with -clients, at most %d screens)", maxClients-o.clients, maxClients)
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("-duration must be above 0 and at most %s", maxDuration)
	case o.rate < 0 || o.rate > maxRate:
		return fmt.Errorf("-rate must be 0 to %d", maxRate)
	case o.protocol != 1 && o.protocol != 2:
		return fmt.Errorf("-protocol must be 1 or 2")
	case o.batch < 1 || o.batch > 10_000 || o.concurrency < 1 || o.boards < 1:
		return fmt.Errorf("-batch must be 1 to 10000; -concurrency and -boards at least 1")
	}
	if o.server != "" && !isLoopback(o.server) {
		return fmt.Errorf("-server must be a loopback URL: load tests never leave this machine")
	}
	if (o.bareHub || o.centrifugo || o.compare) && o.stalled > 0 {
		return fmt.Errorf("-stalled counts the server's drops, which the bare hub and Centrifugo do not report")
	}
	if o.bareHub && o.centrifugo {
		return fmt.Errorf("give at most one of -bare-hub and -centrifugo (or -compare for both)")
	}
	if (o.centrifugo || o.compare) && o.serverBin == "" {
		return errNoCentrifugo
	}
	if o.soak.heapProfiles != "" && o.serverBin == "" {
		return fmt.Errorf("-heap-profiles needs -server-bin: the profiles need an admin token this tool gives the server")
	}
	return o.soak.check(o.duration)
}

func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (strings.HasPrefix(u.Host, "127.0.0.1") || strings.HasPrefix(u.Host, "localhost") || strings.HasPrefix(u.Host, "[::1]"))
}

// boardNames are the boards of boardsYAML.
func boardNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("load-%02d", i+1)
	}
	return out
}

// boardsYAML defines the boards screens follow: each has the count tile the
// latency is measured on, a headline and a breakdown.
func boardsYAML(n int) string {
	var b strings.Builder
	b.WriteString("boards:\n")
	for _, name := range boardNames(n) {
		fmt.Fprintf(&b, "- name: %s\n  tiles:\n", name)
		b.WriteString("  - {id: nps, view: headline, window: 1h}\n")
		b.WriteString("  - {id: responses, view: count, window: today}\n")
		b.WriteString("  - {id: channels, view: breakdown, by: channel, window: 1h}\n")
	}
	return b.String()
}

func measure(ctx context.Context, o options, stderr io.Writer) (report, error) {
	base := o.server
	r := report{o: o}
	adminToken := "" // the server's, when it serves heap profiles
	var srv *server
	boards := boardNames(o.boards)
	if o.serverBin != "" {
		dir, err := os.MkdirTemp("", "pulseload-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		file := filepath.Join(dir, "boards.yaml")
		if err := os.WriteFile(file, []byte(boardsYAML(o.boards)), 0o644); err != nil {
			return r, err
		}
		// Every screen comes from 127.0.0.1, and it reads boards without
		// pairing: lift the per-address cap and open the boards.
		args := []string{"--boards", file, "--ingest-tokens", o.token, "--broadcast-interval", o.interval,
			"--public-boards", "--max-screens-per-ip", "0", "--ingest-rate", "0"}
		if o.redisURL != "" {
			tenant := o.tenant
			if tenant == "" {
				tenant = fmt.Sprintf("load%d", time.Now().Unix())
			}
			args = append(args, "--redis-url", o.redisURL, "--tenant", tenant)
		}
		if o.soak.heapProfiles != "" { // pprof needs an admin token
			adminToken = randomKey()
			args = append(args, "--admin-tokens", adminToken)
		}
		spawned := time.Now()
		if srv, err = spawn(o.serverBin, args, nil); err != nil {
			return r, err
		}
		// Warm-up: from start until a board is served, which needs the
		// aggregator's replica of everything already in the store.
		if err := waitBoard("http://"+srv.addr, boards[0]); err != nil {
			return r, err
		}
		r.warmup = time.Since(spawned)
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		defer srv.stop(stopCtx)
		base = "http://" + srv.addr
	}
	if err := waitReady(base); err != nil {
		return r, err
	}
	// screens is where the screens connect, probe the process whose memory
	// and CPU are read: the server, or the bare hub it feeds.
	screens, probe := base, srv
	if o.bareHub {
		hub, err := spawnBareHub(base, o.boards, o.protocol)
		if err != nil {
			return r, err
		}
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		defer hub.stop(stopCtx)
		screens, probe = "http://"+hub.addr, hub
		if err := waitReady(screens); err != nil {
			return r, err
		}
	}
	var relay *cfRelay
	if o.centrifugo {
		bin, err := centrifugoBinary(ctx, o.centrifugoBin, stderr)
		if err != nil {
			return r, err
		}
		dir, err := os.MkdirTemp("", "pulseload-centrifugo-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		key := randomKey()
		cf, err := spawnCentrifugo(bin, dir, key)
		if err != nil {
			return r, err
		}
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		defer cf.stop(stopCtx)
		screens, probe = "http://"+cf.addr, cf
		relay = newCFRelay(screens, key)
		rctx, stopRelay := context.WithCancel(ctx)
		defer stopRelay()
		up := "ws" + strings.TrimPrefix(base, "http")
		for _, b := range boards {
			go func() {
				if err := relay.follow(rctx, fmt.Sprintf("%s/boards/%s/live?v=%d", up, b, o.protocol), b); err != nil && rctx.Err() == nil {
					progress(stderr, "relay %s: %v", b, err)
				}
			}()
		}
		for deadline := time.Now().Add(30 * time.Second); int(relay.connected.Load()) < len(boards); {
			if time.Now().After(deadline) {
				return r, fmt.Errorf("the relay did not subscribe to every board within 30 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wsBase := "ws" + strings.TrimPrefix(screens, "http")
	if probe != nil {
		time.Sleep(time.Second)
		r.rssBefore, r.fdsBefore = probe.rss(), probe.fds()
	}
	r.goBefore = goroutines(screens)

	acks := &ackLog{}
	c := &crowd{acks: acks, compress: o.compress, protocol: o.protocol}
	began := time.Now()
	if relay != nil {
		c.connectCentrifugo(ctx, wsBase+"/connection/websocket", boards, o.clients, o.connectRate)
		if err, ok := c.firstError.Load().(string); ok {
			progress(stderr, "first failed subscription: %s", err)
		}
		// Each screen's first message sets the count it measures from.
		if err := relay.replayLast(ctx); err != nil {
			return r, err
		}
	} else {
		c.connect(ctx, wsBase, boards, o.clients, o.connectRate)
	}
	r.connectTook = time.Since(began)
	progress(stderr, "connected %d screens in %s (%d failed); settling %s", c.open.Load(), r.connectTook.Round(time.Millisecond), c.failed.Load(), o.settle)
	time.Sleep(o.settle)
	if probe != nil {
		r.rssIdle = probe.rss()
	}
	r.open = c.open.Load()
	if o.stalled > 0 {
		r.dropped0 = metric(base, "pulseboard_ws_dropped_total")
		stalled := stall(ctx, wsBase, boards, o.stalled)
		r.stalled = len(stalled)
		defer func() {
			for _, conn := range stalled {
				conn.Close()
			}
		}()
	}

	l := &loader{base: base, token: o.token, rate: o.rate, total: o.total, batch: o.batch, concurrency: o.concurrency,
		run: fmt.Sprint(time.Now().UnixNano()), spread: o.spread, acks: acks, client: &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2}}}
	var cpu0 time.Duration
	if probe != nil {
		cpu0 = probe.cpu()
	}
	msgs0, bytes0, wire0 := c.messages.Load(), c.bytes.Load(), c.wire.Load()
	c.measure.Store(true)
	lctx, cancel := context.WithTimeout(ctx, o.duration)
	done := make(chan struct{})
	go func() { l.drive(lctx); close(done) }()
	tick := time.NewTicker(min(5*time.Second, o.soak.every()))
	loadBegan, lastSample, lastProgress := time.Now(), time.Now(), time.Now()
	profiledAt := false
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			if time.Since(lastProgress) >= 5*time.Second {
				lastProgress = time.Now()
				progress(stderr, "%s: %d responses acknowledged, %d screens open, p99 screen delay %s",
					time.Since(began).Round(time.Second), acks.acked(), c.open.Load(), c.latency.quantile(0.99))
			}
			// A series of RSS samples shows drift at steady state, not
			// only growth between the run's ends.
			if probe != nil && time.Since(lastSample) >= o.soak.every() {
				lastSample = time.Now()
				r.samples = append(r.samples, sampleOf(time.Since(loadBegan), probe.rss(), screens))
			}
			if adminToken != "" && !profiledAt && time.Since(loadBegan) >= o.soak.driftAfter(o.duration) {
				profiledAt = true
				r.heapProfiles = append(r.heapProfiles, saveHeapProfile(base, adminToken, o.soak.heapProfiles, "heap-start.pb.gz", stderr))
			}
		}
	}
	tick.Stop()
	cancel()
	time.Sleep(time.Second) // the last answers reach the screens
	c.measure.Store(false)
	r.ingestTook = o.duration
	if probe != nil {
		r.cpu = probe.cpu() - cpu0
	}
	r.messages = c.messages.Load() - msgs0
	r.msgBytes, r.wireBytes = c.bytes.Load()-bytes0, c.wire.Load()-wire0
	if relay != nil {
		r.relayErrors, r.relayPublished, r.relayBatched = relay.errors.Load(), relay.published.Load(), relay.batched.Load()
		r.relayLatency = [2]time.Duration{relay.latency.quantile(0.5), relay.latency.quantile(0.99)}
		if e, ok := relay.firstError.Load().(string); ok {
			progress(stderr, "first failed publish: %s", e)
		}
		if d, ok := c.firstDrop.Load().(string); ok {
			progress(stderr, "first screen dropped by Centrifugo: %s", d)
		}
	}
	if adminToken != "" {
		r.heapProfiles = append(r.heapProfiles, saveHeapProfile(base, adminToken, o.soak.heapProfiles, "heap-end.pb.gz", stderr))
	}
	r.loader, r.crowd = l, c
	if probe != nil {
		r.rssLoaded = probe.rss()
	}
	if r.stalled > 0 {
		r.droppedStalled = metric(base, "pulseboard_ws_dropped_total") - r.dropped0
	}
	c.closeAll()
	l.client.CloseIdleConnections() // so "after" counts only what the server kept
	// The server closes its side of each socket on its own goroutines,
	// thousands at once on shared cores: wait (bounded) until it is back to
	// where it started, so what remains after that is what it kept.
	closed := time.Now()
	time.Sleep(time.Second)
	for r.goAfter = goroutines(screens); r.goAfter > r.goBefore && time.Since(closed) < settleAfterMax; r.goAfter = goroutines(screens) {
		time.Sleep(250 * time.Millisecond)
	}
	r.settledAfter = time.Since(closed)
	if probe != nil {
		r.rssAfter, r.fdsAfter = probe.rss(), probe.fds()
	}
	return r, nil
}

func progress(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "pulseload: "+format+"\n", args...)
}

type report struct {
	o                                       options
	warmup                                  time.Duration
	rssBefore, rssIdle, rssLoaded, rssAfter int64
	fdsBefore, fdsAfter                     int
	goBefore, goAfter                       int
	settledAfter                            time.Duration
	open                                    int64
	connectTook, ingestTook                 time.Duration
	cpu                                     time.Duration
	messages                                int64
	loader                                  *loader
	crowd                                   *crowd
	stalled                                 int
	dropped0, droppedStalled                float64
	// samples are the server's RSS and heap in use, every
	// -sample-every while posting (soak.go).
	samples      []sample
	heapProfiles []string
	// msgBytes are the messages' bytes as the screens read them
	// (decompressed), wireBytes what their sockets read.
	msgBytes, wireBytes int64
	relayErrors         int64
	relayPublished      int64
	relayBatched        int64
	relayLatency        [2]time.Duration // p50, p99 of the relay's publish round trips
}

// settleAfterMax bounds the wait for the server to let go of the screens.
const settleAfterMax = 15 * time.Second

func (r report) print(w io.Writer) {
	l, c := r.loader, r.crowd
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(t, "measure\tvalue\n")
	if r.o.bareHub {
		fmt.Fprintf(t, "screens served by\tthe bare gorilla hub, relaying the server's messages (memory, CPU, fds and goroutines are the hub's)\n")
	}
	if r.o.centrifugo {
		fmt.Fprintf(t, "screens served by\tCentrifugo %s, fed the server's messages through its HTTP API (memory, CPU, fds and goroutines are Centrifugo's)\n", centrifugoVersion)
		fmt.Fprintf(t, "relay: messages published (requests batching several) / errors / round trip p50, p99\t%d (%d) / %d / %s, %s\n",
			r.relayPublished, r.relayBatched, r.relayErrors, r.relayLatency[0], r.relayLatency[1])
	}
	if r.warmup > 0 {
		fmt.Fprintf(t, "server start to first board served\t%s\n", r.warmup.Round(time.Millisecond))
	}
	fmt.Fprintf(t, "screens open / failed / dropped\t%d / %d / %d\n", r.open, c.failed.Load(), c.dropped.Load())
	if r.stalled > 0 {
		fmt.Fprintf(t, "stalled screens (never read) / dropped by the server\t%d / %.0f\n", r.stalled, r.droppedStalled)
	}
	fmt.Fprintf(t, "responses acknowledged\t%d in %s (%.0f/s; target %.0f/s)\n", l.sent.Load(), r.ingestTook, float64(l.sent.Load())/r.ingestTook.Seconds(), r.o.rate)
	fmt.Fprintf(t, "ingest errors\t%d\n", l.errors.Load())
	fmt.Fprintf(t, "request round trip p50 / p99\t%s / %s\n", l.latency.quantile(0.5), l.latency.quantile(0.99))
	fmt.Fprintf(t, "ack → screen p50 / p95 / p99 / max\t%s / %s / %s / %s (%d samples)\n",
		c.latency.quantile(0.5), c.latency.quantile(0.95), c.latency.quantile(0.99), c.latency.max, c.latency.count())
	fmt.Fprintf(t, "messages to screens\t%d (%.0f/s), %.1f MB\n", r.messages, float64(r.messages)/r.ingestTook.Seconds(), float64(r.msgBytes)/1e6)
	if r.messages > 0 {
		fmt.Fprintf(t, "bytes per message, read / on the wire\t%.0f / %.0f B\n", float64(r.msgBytes)/float64(r.messages), float64(r.wireBytes)/float64(r.messages))
	}
	p50, n := c.updateSizes.quantile(0.5)
	p99, _ := c.updateSizes.quantile(0.99)
	protocol := r.o.protocol // the bare hub and Centrifugo relay the same version
	if n > 0 {               // Centrifugo's screens read publications, not updates
		fmt.Fprintf(t, "update size p50 / p99 (protocol v%d, uncompressed)\t%d / %d bytes (%d updates)\n", protocol, p50, p99, n)
	}
	if r.rssBefore > 0 {
		per := float64(r.rssIdle-r.rssBefore) / float64(max(r.open, 1))
		fmt.Fprintf(t, "server RSS before / idle screens / loaded / after\t%.1f / %.1f / %.1f / %.1f MB\n",
			mb(r.rssBefore), mb(r.rssIdle), mb(r.rssLoaded), mb(r.rssAfter))
		if r.open > 0 {
			fmt.Fprintf(t, "RSS per idle screen\t%.1f KiB\n", per/1024)
		}
		fmt.Fprintf(t, "server CPU while posting\t%s (%.0f%% of one core)\n", r.cpu.Round(time.Millisecond), 100*r.cpu.Seconds()/r.ingestTook.Seconds())
		if ticks := float64(r.messages) / float64(max(r.open, 1)); ticks > 0 {
			fmt.Fprintf(t, "server CPU per broadcast tick\t%.1f ms (%.0f ticks reached each screen)\n", r.cpu.Seconds()*1000/ticks, ticks)
			fmt.Fprintf(t, "server CPU per message delivered\t%.1f µs\n", r.cpu.Seconds()*1e6/float64(r.messages))
		}
		r.printSeries(t)
		fmt.Fprintf(t, "server fds before / after\t%d / %d\n", r.fdsBefore, r.fdsAfter)
	}
	fmt.Fprintf(t, "server goroutines before / after\t%d / %d (counted %s after the screens closed)\n", r.goBefore, r.goAfter, r.settledAfter.Round(100*time.Millisecond))
	t.Flush()
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
