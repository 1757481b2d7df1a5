// Command pulseboard is the Pulseboard server: survey responses in, live Net
// Promoter Score out. See README.md for the settings and docs/ for the rest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pulseboard/pulseboard/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// commands lists the subcommands, for `pulseboard --help`: a newcomer finds
// every one there, not only in the README.
const commands = `Usage:
  pulseboard [flags]                 run the server (its flags are below)
  pulseboard import [flags] FILE.csv backfill a CSV export through a running server's API
  pulseboard token [flags]           make a random token and its sha256 hash (ingest, admin or a screen's)
  pulseboard healthcheck [flags]     ask the local server's /healthz (the container probe)
  pulseboard help                    this text

Each command's --help lists its own flags.

`

// run is main without the process globals, so tests can call it; only
// `import -` reads the process's standard input (its tests call runImport).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "healthcheck":
			return healthcheck(args[1:], getenv, stdout, stderr)
		case "import":
			return runImport(args[1:], getenv, os.Stdin, stdout, stderr)
		case "token":
			return runToken(args[1:], stdout, stderr)
		case "help":
			args = []string{"--help"}
		}
	}
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, commands)
		config.Usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	logger := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain(cfg, logger)
	if err := m.Run(ctx); err != nil {
		logger.Error("start failed", slog.Any("err", err))
		m.Close(context.Background())
		return 1
	}
	select {
	case <-ctx.Done():
		logger.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	case err := <-m.Failed():
		logger.Error("server failed", slog.Any("err", err))
	}
	stop() // a second signal now kills the process the default way
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := m.Close(sctx); err != nil {
		logger.Error("shutdown", slog.Any("err", err))
		return 1
	}
	logger.Info("stopped")
	return 0
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
