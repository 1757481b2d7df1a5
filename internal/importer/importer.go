// Package importer backfills survey responses (or offered surveys, with
// Options.Kind) from a CSV file through a running Pulseboard's ingest API: it is `pulseboard import` without its
// command line, which stays in cmd/pulseboard.
//
// Run reads the file with csvimport, which parses each row and validates it
// with the API's own rules. Unless invalid rows are to be skipped, it reads
// the file twice: the first pass validates every row, and nothing is sent
// unless all are valid. Valid rows go out as NDJSON batches of api.Response
// over a few concurrent requests. Rows are sharded over the requests by id,
// so the rows of one id reach the server in file order. A batch is retried
// while the server is unavailable or unreachable; ids are upsert keys, so a
// retry, or a whole re-run, counts nothing twice.
//
// One job per file: importer.go runs the passes, source.go opens the input,
// sender.go shards rows into batches, client.go sets up the API's Go
// client (pkg/client), which posts a batch and retries it, problem.go explains a refused batch, progress.go draws the progress line
// and summary.go writes the report.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/csvimport"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Defaults and limits of Options.
const (
	DefaultServer = "http://localhost:8080"
	DefaultBatch  = 5000
	// MaxBatch is the server's default limit of items per request.
	MaxBatch = 10000
	// DefaultWorkers is how many batches are in flight at once.
	DefaultWorkers = 4
)

// Settings that are not options.
const (
	// maxBatchBytes keeps a request well under the server's default 8 MiB
	// body limit even when rows carry long comments.
	maxBatchBytes = 4 << 20
	// listInvalid is how many problems the summary lists.
	listInvalid = 20
)

// Options say what to import, where to, and where to report.
type Options struct {
	// File is the CSV file's path; "-" reads Stdin.
	File string
	// Stdin is what File "-" reads; nil reads as empty.
	Stdin io.Reader
	// Server is the base URL of the running Pulseboard, http:// or https://.
	Server string
	// Token is an ingest token; a dry run needs none.
	Token string
	// Mapping names the columns of fields the header aliases do not find.
	Mapping csvimport.Mapping
	// Location is the time zone of times without an offset; nil is UTC.
	Location *time.Location
	// Schema is the server's dimensions: rows are checked with it, and its
	// custom dimensions are read from their columns.
	Schema store.Schema
	// Kind is what the rows are: responses (the zero value, sent to POST
	// /api/v1/responses) or offered surveys (store.KindOffer, sent to POST
	// /api/v1/offers).
	Kind store.Kind
	// Batch is the rows per request, 1 to MaxBatch; 0 is DefaultBatch.
	Batch int
	// SkipInvalid sends the valid rows and lists the invalid ones, in one
	// pass; otherwise nothing is sent unless every row is valid.
	SkipInvalid bool
	// DryRun validates the file and sends nothing.
	DryRun bool
	// Workers is how many requests are in flight at once; 0 is
	// DefaultWorkers. Each sends its batches one after another.
	Workers int
	// HTTPClient sends the requests; nil is a client of the import's own,
	// whose idle connections are closed at the end.
	HTTPClient *http.Client
	// Now is the clock for rows' times, elapsed times and Retry-After
	// dates; nil is time.Now.
	Now func() time.Time
	// After times the waits between attempts of a batch, like time.After
	// (nil).
	After func(d time.Duration) <-chan time.Time
	// Out gets the report: the summary and the outcome (standard output).
	Out io.Writer
	// Log gets messages, retries and the progress line (standard error). A
	// terminal gets the progress line redrawn in place.
	Log io.Writer
}

func (o Options) withDefaults() Options {
	if o.Stdin == nil {
		o.Stdin = strings.NewReader("")
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	o.Server = strings.TrimRight(o.Server, "/")
	return o
}

// Result is what an import did.
type Result struct {
	Rows     int                // rows read in the last pass over the file
	Invalid  int                // of them, rows that are invalid
	Sent     int                // rows the server acknowledged
	Recorded store.RecordResult // what the server did with them
}

// Errors Run returns after it reported them, besides failures to read,
// send or be acknowledged.
var (
	// ErrInvalidRows: rows are invalid, and without SkipInvalid nothing was
	// sent.
	ErrInvalidRows = errors.New("invalid rows")
	// ErrUnacknowledged: the server acknowledged fewer rows than were sent.
	ErrUnacknowledged = errors.New("rows sent were not acknowledged")
)

// Run imports one file. It reports as it goes: messages and progress to
// Log, the summary and outcome to Out. It returns nil when every row was
// imported (with SkipInvalid, every valid row; with DryRun, when every row
// is valid), and otherwise the error that stopped it, already reported.
func Run(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	if o.Batch < 1 || o.Batch > MaxBatch {
		err := fmt.Errorf("batch of %d rows: must be from 1 to %d", o.Batch, MaxBatch)
		fmt.Fprintf(o.Log, "import: %v\n", err)
		return Result{}, err
	}
	im := &importer{opts: o, con: newConsole(o.Log), began: o.Now()}
	err := im.run(ctx)
	return Result{Rows: im.rows, Invalid: im.invalid, Sent: im.sent, Recorded: im.result}, err
}

// importer runs one import.
type importer struct {
	opts  Options
	con   *console
	began time.Time

	// What the summary reports.
	rows      int // rows read in the last pass
	invalid   int
	problems  []string
	more      int // problems not listed
	result    store.RecordResult
	sent      int
	validated time.Duration // first pass
	imported  time.Duration // second pass
}

func (im *importer) run(ctx context.Context) error {
	src, cleanup, err := openSource(im.opts)
	if err != nil {
		fmt.Fprintf(im.con, "import: %v\n", err)
		return err
	}
	defer cleanup()
	var cl *apiClient
	if !im.opts.DryRun {
		if cl, err = newClient(im.opts); err != nil {
			fmt.Fprintf(im.con, "import: %v\n", err)
			return err
		}
		defer cl.close()
		if err := cl.probe(ctx); err != nil {
			err = fmt.Errorf("no server answers at %s (%v); start it, or point --server at it", im.opts.Server, err)
			fmt.Fprintf(im.con, "import: %v\n", err)
			return err
		}
	}
	// Without SkipInvalid, nothing is sent unless every row is valid: a
	// first pass checks them all.
	if twoPass := !im.opts.SkipInvalid || im.opts.DryRun; twoPass {
		t0 := im.opts.Now()
		err := im.pass(ctx, src, "validating", nil)
		im.validated = im.opts.Now().Sub(t0)
		if err != nil {
			return im.fail(err)
		}
		if im.opts.DryRun {
			im.summary()
			if im.invalid > 0 && !im.opts.SkipInvalid {
				fmt.Fprintf(im.opts.Out, "dry run: %d of %d rows are invalid; nothing was sent\n", im.invalid, im.rows)
				return fmt.Errorf("%w: %d of %d", ErrInvalidRows, im.invalid, im.rows)
			}
			fmt.Fprintf(im.opts.Out, "dry run: %d rows are valid; nothing was sent\n", im.rows-im.invalid)
			return nil
		}
		if im.invalid > 0 {
			im.summary()
			fmt.Fprintf(im.opts.Out, "nothing was imported: %d of %d rows are invalid; fix them, or pass --skip-invalid to import the others\n",
				im.invalid, im.rows)
			return fmt.Errorf("%w: %d of %d", ErrInvalidRows, im.invalid, im.rows)
		}
		if err := src.rewind(); err != nil {
			return im.fail(err)
		}
		im.rows, im.invalid, im.problems, im.more = 0, 0, nil, 0
	}
	s := newSender(ctx, cl, im.opts, im.con)
	t0 := im.opts.Now()
	err = im.pass(ctx, src, "importing", s)
	if err != nil {
		s.cancel(err) // send nothing more
	}
	if cerr := s.close(); err == nil {
		err = cerr
	}
	im.imported = im.opts.Now().Sub(t0)
	im.result, im.sent = s.totals()
	if err != nil {
		return im.fail(err)
	}
	im.summary()
	if n := im.result.Accepted + im.result.Updated + im.result.Duplicates + im.result.Stale; n != im.sent {
		fmt.Fprintf(im.opts.Out, "warning: the server acknowledged %d of the %d rows sent\n", n, im.sent)
		return fmt.Errorf("%w: %d of %d acknowledged", ErrUnacknowledged, n, im.sent)
	}
	fmt.Fprintln(im.opts.Out, im.outcome())
	return nil
}

// pass reads the whole file once, sending valid rows to s unless it is nil.
func (im *importer) pass(ctx context.Context, src *source, phase string, s *sender) error {
	rd, err := csvimport.NewReader(src.r, csvimport.Options{Mapping: im.opts.Mapping, Location: im.opts.Location, Now: im.opts.Now,
		Limits: ingest.Options{Schema: im.opts.Schema}, Kind: im.opts.Kind})
	if err != nil {
		var mf *csvimport.MissingFieldError
		if errors.As(err, &mf) {
			return fmt.Errorf("%s: %w; name it with --map %s=COLUMN", src.name, err, mf.Field)
		}
		return fmt.Errorf("%s: %w", src.name, err)
	}
	if s == nil || im.opts.SkipInvalid { // said once per import
		im.describeColumns(rd)
	}
	prog := newProgress(im.con, phase, src.size, im.opts.Now)
	defer prog.stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := rd.Next()
		if err == io.EOF {
			prog.update(rd.InputOffset(), im.rows)
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", src.name, err)
		}
		im.rows++
		if !row.Valid() {
			im.invalid++
			for _, p := range row.Problems {
				if len(im.problems) < listInvalid {
					im.problems = append(im.problems, p)
				} else {
					im.more++
				}
			}
			if s != nil && !im.opts.SkipInvalid {
				// The file changed since it was validated, or a time grew
				// too old meanwhile.
				return fmt.Errorf("%s (found while importing)", row.Problems[0])
			}
		} else if s != nil {
			if err := s.add(row.Line, row.Response); err != nil {
				return err
			}
		}
		prog.update(rd.InputOffset(), im.rows)
	}
}

// describeColumns says which column each field was read from, so a wrong
// guess of the aliases is seen before the summary.
func (im *importer) describeColumns(rd *csvimport.Reader) {
	cols := rd.Columns()
	var parts []string
	for _, f := range ingest.FieldNames() {
		if c, ok := cols[f]; ok {
			parts = append(parts, fmt.Sprintf("%s=%q", f, c))
		}
	}
	msg := "columns: " + strings.Join(parts, " ")
	if rd.DerivedIDs() {
		msg += "; no id column: ids are derived from the cells"
	}
	fmt.Fprintln(im.con, msg)
}
