package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Balancer timings: health checks as often as a real balancer's fastest
// setting, with a timeout shorter than the interval.
const (
	balancerCheckEvery   = 100 * time.Millisecond
	balancerCheckTimeout = 500 * time.Millisecond
)

// balancer is a small real load balancer for tests: a reverse proxy that
// round-robins over the backends whose /readyz answered 200 at the last
// check, takes a backend out as soon as a request to it fails, and passes
// WebSocket upgrades through (httputil.ReverseProxy tunnels them).
type balancer struct {
	addr      string
	backends  []string
	up        []atomic.Bool
	next      atomic.Uint64
	transport *http.Transport
	server    *http.Server
	stop      context.CancelFunc
	done      sync.WaitGroup
}

// startBalancer listens on a free port and stops when the test ends.
func startBalancer(t *testing.T, backends []string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{
		addr:      ln.Addr().String(),
		backends:  backends,
		up:        make([]atomic.Bool, len(backends)),
		transport: &http.Transport{DialContext: (&net.Dialer{Timeout: time.Second}).DialContext, MaxIdleConnsPerHost: 64},
	}
	b.server = &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	go b.server.Serve(ln)
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.check(ctx)
	b.done.Add(1)
	go func() {
		defer b.done.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(balancerCheckEvery):
				b.check(ctx)
			}
		}
	}()
	t.Cleanup(func() {
		b.stop()
		b.done.Wait()
		b.server.Close()
		b.transport.CloseIdleConnections()
	})
	return b
}

// check asks every backend's /readyz.
func (b *balancer) check(ctx context.Context) {
	client := http.Client{Transport: b.transport, Timeout: balancerCheckTimeout}
	for i, addr := range b.backends {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		res, err := client.Do(req)
		ok := err == nil && res.StatusCode == http.StatusOK
		if err == nil {
			res.Body.Close()
		}
		b.up[i].Store(ok)
	}
}

// pick returns the next live backend in turn.
func (b *balancer) pick() (int, bool) {
	n := uint64(len(b.backends))
	start := b.next.Add(1)
	for k := range n {
		i := int((start + k) % n)
		if b.up[i].Load() {
			return i, true
		}
	}
	return 0, false
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, ok := b.pick()
	if !ok {
		http.Error(w, "no live backend", http.StatusServiceUnavailable)
		return
	}
	target := &url.URL{Scheme: "http", Host: b.backends[i]}
	p := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: b.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			b.up[i].Store(false)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.ServeHTTP(w, r)
}

// waitUp waits until the balancer routes to backend i again.
func (b *balancer) waitUp(t *testing.T, i int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !b.up[i].Load() {
		if time.Now().After(deadline) {
			t.Fatalf("balancer: backend %s not ready within %s", b.backends[i], timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
