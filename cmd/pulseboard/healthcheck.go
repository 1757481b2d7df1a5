package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pulseboard/pulseboard/internal/config"
	pbclient "github.com/pulseboard/pulseboard/pkg/client"
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
	// One try: the container runtime asks again on its own schedule.
	c, err := pbclient.New("http://127.0.0.1:"+port, pbclient.WithUserAgent("pulseboard-healthcheck"), pbclient.WithRetry(pbclient.Retry{Attempts: 1}))
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 2
	}
	if err := c.Health(ctx); err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 1
	}
	return 0
}
