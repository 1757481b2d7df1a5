package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pulseboard/pulseboard/internal/config"
)

// healthcheckTimeout bounds the container health probe.
const healthcheckTimeout = 3 * time.Second

// healthcheck is `pulseboard healthcheck`: it asks the local server's
// /healthz, for container images without a shell or curl.
func healthcheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, "Usage: pulseboard healthcheck [server flags]")
		fmt.Fprintln(stdout, "Asks http://127.0.0.1:PORT/healthz, PORT from --addr (PULSEBOARD_ADDR); exits 0 when it answers 200 within 3 s, else 1.")
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: address %q: %v\n", cfg.Addr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthcheckTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: /healthz answered %d\n", res.StatusCode)
		return 1
	}
	return 0
}
