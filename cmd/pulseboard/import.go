package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pulseboard/pulseboard/internal/csvimport"
	"github.com/pulseboard/pulseboard/internal/importer"
	"github.com/pulseboard/pulseboard/internal/store"
)

const importUsage = `usage: pulseboard import [flags] FILE.csv

Reads survey responses from a CSV file (FILE "-" is standard input) and sends
them to a running Pulseboard in batches (POST /api/v1/responses, NDJSON).
With --kind offers the rows are offered surveys instead (POST /api/v1/offers):
id, channel, the other dimensions, at and version; other columns are ignored.

The header line names the columns. Recognized, in any case (aliases after
the field name; other columns are ignored):
  id       response_id, survey_id        (none: derived from the row, see below)
  score    nps, rating, nps_score        (0-10; required unless csat is given)
  csat     csat_score                    (1-5)
  offer_id                               (the offer the response answers)
  channel  source                        (required)
  segment, team (team_name), agent (agent_name)
  journey  journey_type, customer_journey, journey_name
  your own dimensions (--dimensions), by their names
  comment  feedback, verbatim
  tags     separated by ; or | in the cell
  at       created_at, answered_at, timestamp, date
Use --map to name other columns: --map 'score=How likely,channel=Source'.

Times (at): RFC 3339 (2025-01-31T09:30:00Z, fractional seconds optional),
2025-01-31 09:30:00, 2025-01-31T09:30:00, 2025-01-31 09:30, 2025-01-31,
01/31/2025 09:30, 01/31/2025 (month first), 31.01.2025 09:30 (day first), or
Unix seconds. Times without an offset are in --timezone. An empty time is
the time the server receives the row.

Without an id column each row's id is "csv-" and a hash of its cells: running
the same file again reports duplicates and counts nothing twice, so an
interrupted or failed import can simply be re-run. Rows identical in every
column are one response.

By default the whole file is validated first and nothing is sent if any row
is invalid; --skip-invalid sends the valid rows and lists the invalid ones.
Standard input is copied to a temporary file for the two passes, unless
--skip-invalid or --dry-run is given, which read it once.

Exit status: 0 when every row was imported (or, with --skip-invalid, every
valid row), 1 when anything failed, 2 for a usage error.

Flags:
`

// runImport is `pulseboard import`: its command line, then internal/importer.
func runImport(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, code := parseImportArgs(args, getenv, stdout, stderr)
	if opts == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Stdin, opts.Out, opts.Log = stdin, stdout, stderr
	if _, err := importer.Run(ctx, *opts); err != nil {
		return 1 // Run has said why
	}
	return 0
}

// parseImportArgs reads the command line into importer options, or says
// what is wrong with it (exit status 2) or prints the help (0).
func parseImportArgs(args []string, getenv func(string) string, stdout, stderr io.Writer) (*importer.Options, int) {
	opts := &importer.Options{Mapping: csvimport.Mapping{}}
	fs := flag.NewFlagSet("pulseboard import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defTZ := getenv("PULSEBOARD_TIMEZONE")
	if defTZ == "" {
		defTZ = "UTC"
	}
	var defToken string
	for t := range strings.SplitSeq(getenv("PULSEBOARD_INGEST_TOKENS"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			defToken = t
			break
		}
	}
	var tz, dims, kind string
	fs.StringVar(&dims, "dimensions", getenv("PULSEBOARD_DIMENSIONS"), "the server's own dimensions, comma-separated, read from columns of their names; the default is PULSEBOARD_DIMENSIONS")
	fs.StringVar(&opts.Server, "server", importer.DefaultServer, "the running Pulseboard to send to")
	fs.StringVar(&opts.Token, "token", "", "ingest token; the default is the first of PULSEBOARD_INGEST_TOKENS")
	fs.Func("map", "column mapping, field=column pairs separated by commas; may be repeated", opts.Mapping.Add)
	fs.StringVar(&tz, "timezone", defTZ, "IANA time zone of times without an offset; the default is PULSEBOARD_TIMEZONE, else UTC")
	fs.IntVar(&opts.Batch, "batch", importer.DefaultBatch, fmt.Sprintf("rows per request, at most %d", importer.MaxBatch))
	fs.BoolVar(&opts.SkipInvalid, "skip-invalid", false, "import the valid rows and list the invalid ones")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "validate the file; send nothing")
	fs.StringVar(&kind, "kind", "responses", "what the rows are: responses, or offers (offered surveys, sent to /api/v1/offers)")

	usageErr := func(format string, a ...any) (*importer.Options, int) {
		fmt.Fprintf(stderr, "import: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run 'pulseboard import --help' for usage")
		return nil, 2
	}
	// Flags may come before or after FILE.
	var files []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, importUsage)
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				return nil, 0
			}
			return usageErr("%v", err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		files = append(files, rest[0])
		rest = rest[1:]
	}
	if len(files) != 1 {
		return usageErr("want exactly one FILE.csv (or - for standard input), got %d", len(files))
	}
	opts.File = files[0]
	if opts.Token == "" {
		opts.Token = defToken
	}
	if opts.Token == "" && !opts.DryRun {
		return usageErr("no ingest token: pass --token or set PULSEBOARD_INGEST_TOKENS")
	}
	if opts.Batch < 1 || opts.Batch > importer.MaxBatch {
		return usageErr("--batch %d: must be from 1 to %d", opts.Batch, importer.MaxBatch)
	}
	var names []string
	for d := range strings.SplitSeq(dims, ",") {
		if d = strings.TrimSpace(d); d != "" {
			names = append(names, d)
		}
	}
	schema, err := store.NewSchema(names...)
	if err != nil {
		return usageErr("--dimensions: %v", err)
	}
	opts.Schema = schema
	switch kind {
	case "responses":
	case "offers":
		opts.Kind = store.KindOffer
	default:
		return usageErr("--kind %q: must be responses or offers", kind)
	}
	if err := opts.Mapping.CheckKind(opts.Kind, schema); err != nil {
		return usageErr("--map: %v", err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return usageErr("--timezone %q: unknown time zone", tz)
	}
	opts.Location = loc
	u, err := url.Parse(opts.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("--server %q: must be an http:// or https:// URL", opts.Server)
	}
	return opts, 0
}
