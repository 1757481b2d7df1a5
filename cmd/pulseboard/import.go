package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pulseboard/pulseboard/internal/csvimport"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Import settings that are not flags.
const (
	importDefaultServer = "http://localhost:8080"
	importDefaultBatch  = 5000
	// importMaxBatch is the server's default limit of items per request.
	importMaxBatch = 10000
	// importMaxBatchBytes keeps a request well under the server's default
	// 8 MiB body limit even when rows carry long comments.
	importMaxBatchBytes = 4 << 20
	// importWorkers is how many batches are in flight at once. Rows are
	// spread over the workers by a hash of their id, and each worker sends
	// its batches one after another, so the rows of one id always reach the
	// server in file order.
	importWorkers = 4
	// importAttempts bounds the tries of one batch while the server is
	// unavailable (503, 502, 504, 429) or unreachable.
	importAttempts = 10
	importMaxWait  = 30 * time.Second
	// importRequestTimeout bounds one request; the server's own write
	// timeout is 60 s.
	importRequestTimeout = 2 * time.Minute
	// importListInvalid is how many problems the summary lists.
	importListInvalid = 20
	// importProbeTimeout bounds the check that a server answers at all,
	// before anything is read or sent: a server that is not running fails
	// the import in about a second, not after every retry of the first batch.
	importProbeTimeout = 2 * time.Second
)

// importStdin is what FILE "-" reads; tests replace it.
var importStdin io.Reader = os.Stdin

const importUsage = `usage: pulseboard import [flags] FILE.csv

Reads survey responses from a CSV file (FILE "-" is standard input) and sends
them to a running Pulseboard in batches (POST /api/v1/responses, NDJSON).

The header line names the columns. Recognized, in any case (aliases after
the field name; other columns are ignored):
  id       response_id, survey_id        (none: derived from the row, see below)
  score    nps, rating, nps_score        (required, 0-10)
  channel  source                        (required)
  segment, team (team_name), agent (agent_name)
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

// importConfig is the parsed command line.
type importConfig struct {
	file        string
	server      string
	token       string
	mapping     csvimport.Mapping
	loc         *time.Location
	batch       int
	skipInvalid bool
	dryRun      bool
}

// runImport is `pulseboard import`.
func runImport(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, code := parseImportArgs(args, getenv, stdout, stderr)
	if cfg == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	im := &importer{cfg: cfg, con: newConsole(stderr), stdout: stdout, began: time.Now()}
	return im.run(ctx)
}

func parseImportArgs(args []string, getenv func(string) string, stdout, stderr io.Writer) (*importConfig, int) {
	cfg := &importConfig{mapping: csvimport.Mapping{}}
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
	var tz string
	fs.StringVar(&cfg.server, "server", importDefaultServer, "the running Pulseboard to send to")
	fs.StringVar(&cfg.token, "token", "", "ingest token; the default is the first of PULSEBOARD_INGEST_TOKENS")
	fs.Func("map", "column mapping, field=column pairs separated by commas; may be repeated", cfg.mapping.Add)
	fs.StringVar(&tz, "timezone", defTZ, "IANA time zone of times without an offset; the default is PULSEBOARD_TIMEZONE, else UTC")
	fs.IntVar(&cfg.batch, "batch", importDefaultBatch, "rows per request, at most 10000")
	fs.BoolVar(&cfg.skipInvalid, "skip-invalid", false, "import the valid rows and list the invalid ones")
	fs.BoolVar(&cfg.dryRun, "dry-run", false, "validate the file; send nothing")

	usageErr := func(format string, a ...any) (*importConfig, int) {
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
	cfg.file = files[0]
	if cfg.token == "" {
		cfg.token = defToken
	}
	if cfg.token == "" && !cfg.dryRun {
		return usageErr("no ingest token: pass --token or set PULSEBOARD_INGEST_TOKENS")
	}
	if cfg.batch < 1 || cfg.batch > importMaxBatch {
		return usageErr("--batch %d: must be from 1 to %d", cfg.batch, importMaxBatch)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return usageErr("--timezone %q: unknown time zone", tz)
	}
	cfg.loc = loc
	u, err := url.Parse(cfg.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("--server %q: must be an http:// or https:// URL", cfg.server)
	}
	cfg.server = strings.TrimRight(cfg.server, "/")
	return cfg, 0
}

// importer runs one import.
type importer struct {
	cfg    *importConfig
	con    *console
	stdout io.Writer
	began  time.Time

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

func (im *importer) run(ctx context.Context) int {
	src, cleanup, err := im.source()
	if err != nil {
		fmt.Fprintf(im.con, "import: %v\n", err)
		return 1
	}
	defer cleanup()
	if !im.cfg.dryRun {
		if err := probeServer(ctx, im.cfg.server); err != nil {
			fmt.Fprintf(im.con, "import: %v\n", err)
			return 1
		}
	}
	// Without --skip-invalid, nothing is sent unless every row is valid: a
	// first pass checks them all.
	twoPass := !im.cfg.skipInvalid || im.cfg.dryRun
	if twoPass {
		t0 := time.Now()
		err := im.pass(ctx, src, "validating", nil)
		im.validated = time.Since(t0)
		if err != nil {
			return im.fail(err)
		}
		if im.cfg.dryRun {
			im.summary()
			if im.invalid > 0 && !im.cfg.skipInvalid {
				fmt.Fprintf(im.stdout, "dry run: %d of %d rows are invalid; nothing was sent\n", im.invalid, im.rows)
				return 1
			}
			fmt.Fprintf(im.stdout, "dry run: %d rows are valid; nothing was sent\n", im.rows-im.invalid)
			return 0
		}
		if im.invalid > 0 {
			im.summary()
			fmt.Fprintf(im.stdout, "nothing was imported: %d of %d rows are invalid; fix them, or pass --skip-invalid to import the others\n",
				im.invalid, im.rows)
			return 1
		}
		if err := src.rewind(); err != nil {
			return im.fail(err)
		}
		im.rows, im.invalid, im.problems, im.more = 0, 0, nil, 0
	}
	s := newSender(ctx, im.cfg, im.con)
	t0 := time.Now()
	err = im.pass(ctx, src, "importing", s)
	if err != nil {
		s.cancel(err) // send nothing more
	}
	if cerr := s.close(); err == nil {
		err = cerr
	}
	im.imported = time.Since(t0)
	im.result, im.sent = s.totals()
	if err != nil {
		return im.fail(err)
	}
	im.summary()
	if n := im.result.Accepted + im.result.Updated + im.result.Duplicates + im.result.Stale; n != im.sent {
		fmt.Fprintf(im.stdout, "warning: the server acknowledged %d of the %d rows sent\n", n, im.sent)
		return 1
	}
	fmt.Fprintln(im.stdout, im.outcome())
	return 0
}

// outcome is the last line of a finished import, in the server's own terms:
// a re-run that found only rows the server already held says so instead of
// claiming to have imported them.
func (im *importer) outcome() string {
	r := im.result
	counts := fmt.Sprintf("%d new, %d updated, %d already there", r.Accepted, r.Updated, r.Duplicates)
	if r.Stale > 0 {
		counts += fmt.Sprintf(", %d older than the version stored", r.Stale)
	}
	line := fmt.Sprintf("imported %d rows: %s", im.sent, counts)
	if r.Accepted+r.Updated == 0 && r.Duplicates+r.Stale > 0 {
		line = fmt.Sprintf("nothing new: the server already had all %d rows (%s)", im.sent, counts)
	}
	if im.invalid > 0 {
		line += fmt.Sprintf("; skipped %d invalid rows", im.invalid)
	}
	return line
}

// probeServer asks the server's /healthz once, briefly. Only a server that
// cannot be reached fails here; any HTTP answer goes on to the import, whose
// requests explain a wrong address or token with the server's own reply.
func probeServer(ctx context.Context, server string) error {
	ctx, cancel := context.WithTimeout(ctx, importProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("--server %s: %w", server, err)
	}
	req.Header.Set("User-Agent", "pulseboard-import")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return fmt.Errorf("no server answers at %s (%v); start it, or point --server at it", server, err)
	}
	res.Body.Close()
	return nil
}

// fail reports an error that stopped the import, after what was done.
func (im *importer) fail(err error) int {
	if errors.Is(err, context.Canceled) {
		err = errors.New("interrupted")
	}
	fmt.Fprintf(im.con, "import: %v\n", err)
	if im.rows > 0 {
		im.summary()
	}
	if im.sent > 0 {
		fmt.Fprintf(im.stdout, "import failed after sending %d rows; the ids make it safe to run the same import again\n", im.sent)
	} else {
		fmt.Fprintln(im.stdout, "import failed; nothing was imported")
	}
	return 1
}

// pass reads the whole file once, sending valid rows to s unless it is nil.
func (im *importer) pass(ctx context.Context, src *input, phase string, s *sender) error {
	rd, err := csvimport.NewReader(src.r, csvimport.Options{Mapping: im.cfg.mapping, Location: im.cfg.loc})
	if err != nil {
		var mf *csvimport.MissingFieldError
		if errors.As(err, &mf) {
			return fmt.Errorf("%s: %w; name it with --map %s=COLUMN", src.name, err, mf.Field)
		}
		return fmt.Errorf("%s: %w", src.name, err)
	}
	if s == nil || im.cfg.skipInvalid { // said once per import
		im.describeColumns(rd)
	}
	prog := newProgress(im.con, phase, src.size)
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
				if len(im.problems) < importListInvalid {
					im.problems = append(im.problems, p)
				} else {
					im.more++
				}
			}
			if s != nil && !im.cfg.skipInvalid {
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

func (im *importer) summary() {
	w := im.stdout
	elapsed := time.Since(im.began)
	fmt.Fprintf(w, "rows read:   %d\n", im.rows)
	if !im.cfg.dryRun {
		fmt.Fprintf(w, "accepted:    %d\n", im.result.Accepted)
		fmt.Fprintf(w, "updated:     %d\n", im.result.Updated)
		fmt.Fprintf(w, "duplicates:  %d\n", im.result.Duplicates)
		if im.result.Stale > 0 {
			// Rows older (by their version) than what the server holds.
			fmt.Fprintf(w, "stale:       %d\n", im.result.Stale)
		}
	}
	fmt.Fprintf(w, "invalid:     %d\n", im.invalid)
	for _, p := range im.problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if im.more > 0 {
		fmt.Fprintf(w, "  … and %d more problems\n", im.more)
	}
	phases := ""
	if im.validated > 0 && im.imported > 0 {
		phases = fmt.Sprintf(" (validating %s, importing %s)", round(im.validated), round(im.imported))
	}
	fmt.Fprintf(w, "elapsed:     %s%s\n", round(elapsed), phases)
	fmt.Fprintf(w, "rate:        %.0f rows/s\n", float64(im.rows)/max(elapsed.Seconds(), 1e-9))
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// input is the file being imported.
type input struct {
	name string
	f    *os.File // nil for standard input read once
	r    io.Reader
	size int64 // 0 when unknown
}

// source opens the input. Standard input is copied to a temporary file when
// it must be read twice.
func (im *importer) source() (*input, func(), error) {
	if im.cfg.file != "-" {
		f, err := os.Open(im.cfg.file)
		if err != nil {
			return nil, nil, err
		}
		return fileInput(im.cfg.file, f), func() { f.Close() }, nil
	}
	if f, ok := importStdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			// Redirected from a file: it can be re-read as it is.
			return fileInput("standard input", f), func() {}, nil
		}
	}
	if im.cfg.skipInvalid || im.cfg.dryRun {
		return &input{name: "standard input", r: importStdin}, func() {}, nil
	}
	tmp, err := os.CreateTemp("", "pulseboard-import-*.csv")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, importStdin); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("copy standard input to %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, err
	}
	return fileInput("standard input", tmp), cleanup, nil
}

func fileInput(name string, f *os.File) *input {
	in := &input{name: name, f: f, r: f}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		in.size = fi.Size()
	}
	return in
}

func (in *input) rewind() error {
	if in.f == nil {
		return errors.New("standard input cannot be read twice")
	}
	_, err := in.f.Seek(0, io.SeekStart)
	return err
}

// sender posts batches of responses as NDJSON with a few requests in flight.
type sender struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	cfg    *importConfig
	con    *console
	client *http.Client
	url    string

	pending []*importBatch // being filled, one per worker
	queues  []chan *importBatch
	wg      sync.WaitGroup
	enc     bytes.Buffer // one encoded row

	mu     sync.Mutex
	result store.RecordResult
	sent   int
}

// importBatch is one request: its NDJSON body and the file line of each row.
type importBatch struct {
	body  bytes.Buffer
	lines []int
}

func newSender(ctx context.Context, cfg *importConfig, con *console) *sender {
	ctx, cancel := context.WithCancelCause(ctx)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = importWorkers
	s := &sender{
		ctx: ctx, cancel: cancel, cfg: cfg, con: con,
		client: &http.Client{Transport: tr, Timeout: importRequestTimeout},
		url:    cfg.server + "/api/v1/responses",
	}
	for range importWorkers {
		q := make(chan *importBatch, 1)
		s.queues = append(s.queues, q)
		s.pending = append(s.pending, &importBatch{})
		s.wg.Go(func() {
			for b := range q {
				if s.ctx.Err() != nil {
					continue // failed: drain
				}
				if err := s.post(b); err != nil {
					s.cancel(err)
				}
			}
		})
	}
	return s
}

// wireResponse is a response as the API reads it.
type wireResponse struct {
	ID      string   `json:"id"`
	Score   int      `json:"score"`
	Channel string   `json:"channel"`
	Segment string   `json:"segment,omitempty"`
	Team    string   `json:"team,omitempty"`
	Agent   string   `json:"agent,omitempty"`
	Comment string   `json:"comment,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	At      string   `json:"at,omitempty"`
	Version uint64   `json:"version,omitempty"`
}

// add queues one valid row. It blocks while every worker is busy, which
// keeps memory bounded, and fails once the import has failed.
func (s *sender) add(line int, r store.Response) error {
	w := wireResponse{
		ID: r.ID, Score: r.Score, Channel: r.Dims.Channel, Segment: r.Dims.Segment, Team: r.Dims.Team,
		Agent: r.Dims.Agent, Comment: r.Comment, Tags: r.Tags, Version: r.Version,
	}
	if r.AtGiven {
		// Without a time the server stamps its own, as for any producer.
		w.At = r.At.UTC().Format(time.RFC3339Nano)
	}
	s.enc.Reset()
	enc := json.NewEncoder(&s.enc)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return err
	}
	i := shard(r.ID, len(s.pending))
	b := s.pending[i]
	if len(b.lines) > 0 && b.body.Len()+s.enc.Len() > importMaxBatchBytes {
		if err := s.flush(i); err != nil {
			return err
		}
		b = s.pending[i]
	}
	b.body.Write(s.enc.Bytes())
	b.lines = append(b.lines, line)
	if len(b.lines) >= s.cfg.batch {
		return s.flush(i)
	}
	return nil
}

// shard spreads ids over the workers (FNV-1a).
func shard(id string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

func (s *sender) flush(i int) error {
	b := s.pending[i]
	select {
	case s.queues[i] <- b:
		s.pending[i] = &importBatch{}
		return nil
	case <-s.ctx.Done():
		return context.Cause(s.ctx)
	}
}

// close sends what is pending, waits for every request and returns the
// first failure.
func (s *sender) close() error {
	for i, b := range s.pending {
		if len(b.lines) > 0 && s.ctx.Err() == nil {
			_ = s.flush(i)
		}
	}
	for _, q := range s.queues {
		close(q)
	}
	s.wg.Wait()
	// Connections dialed but never used would hold up a server's graceful
	// shutdown for seconds.
	s.client.CloseIdleConnections()
	err := context.Cause(s.ctx)
	s.cancel(nil)
	return err
}

func (s *sender) totals() (store.RecordResult, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result, s.sent
}

// post sends one batch, retrying while the server is unavailable or
// unreachable. A retry cannot count anything twice: ids are upsert keys.
func (s *sender) post(b *importBatch) error {
	where := fmt.Sprintf("lines %d-%d", b.lines[0], b.lines[len(b.lines)-1])
	if len(b.lines) == 1 {
		where = fmt.Sprintf("line %d", b.lines[0])
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.url, bytes.NewReader(b.body.Bytes()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", ingest.TypeNDJSON)
		req.Header.Set("Authorization", "Bearer "+s.cfg.token)
		req.Header.Set("User-Agent", "pulseboard-import")
		var why string
		wait := time.Duration(-1) // no Retry-After: back off
		res, err := s.client.Do(req)
		if err != nil {
			if s.ctx.Err() != nil {
				return context.Cause(s.ctx)
			}
			why = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusAccepted, http.StatusOK:
				var r struct{ Accepted, Updated, Duplicates, Stale int }
				if err := json.Unmarshal(body, &r); err != nil {
					return fmt.Errorf("%s: unreadable reply %q: %v", where, truncate(string(body), 200), err)
				}
				s.mu.Lock()
				s.result.Add(store.RecordResult{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale})
				s.sent += len(b.lines)
				s.mu.Unlock()
				return nil
			case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusTooManyRequests:
				why = res.Status
				wait = retryAfter(res.Header.Get("Retry-After"))
			default:
				return refusal(where, res, body, b.lines)
			}
		}
		if attempt == importAttempts {
			return fmt.Errorf("%s: giving up after %d attempts: %s", where, attempt, why)
		}
		if wait < 0 {
			wait = backoff(attempt)
		}
		fmt.Fprintf(s.con, "%s: %s; retrying in %s (attempt %d of %d)\n", where, why, wait.Round(time.Millisecond), attempt+1, importAttempts)
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); -1 when
// there is none.
func retryAfter(v string) time.Duration {
	if v == "" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, importMaxWait)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), importMaxWait)
	}
	return -1
}

// backoff doubles from 250 ms, with jitter so workers do not retry in step.
func backoff(attempt int) time.Duration {
	d := min(250*time.Millisecond<<(attempt-1), 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

// refusal explains a status the import cannot get past, with the problem
// details mapped back to file lines.
func refusal(where string, res *http.Response, body []byte, lines []int) error {
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Index  int    `json:"index"`
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	msg := fmt.Sprintf("the server refused %s: %s", where, res.Status)
	if json.Unmarshal(body, &p) == nil && p.Detail != "" {
		msg += ": " + p.Detail
	} else if t := strings.TrimSpace(string(body)); t != "" {
		msg += ": " + truncate(t, 300)
	}
	for _, e := range p.Errors {
		line := "?"
		if e.Index >= 0 && e.Index < len(lines) {
			line = strconv.Itoa(lines[e.Index])
		}
		if e.Field != "" {
			msg += fmt.Sprintf("\n  line %s: %s: %s", line, e.Field, e.Reason)
		} else {
			msg += fmt.Sprintf("\n  line %s: %s", line, e.Reason)
		}
	}
	switch res.StatusCode {
	case http.StatusRequestEntityTooLarge:
		msg += "\n(pass a smaller --batch)"
	case http.StatusUnauthorized:
		msg += "\n(check --token or PULSEBOARD_INGEST_TOKENS)"
	}
	return errors.New(msg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// console writes messages and a progress line to stderr. On a terminal the
// progress line is redrawn in place, and a message first clears it.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	shown bool // a progress line is on screen (tty)
}

func newConsole(w io.Writer) *console {
	c := &console{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			c.tty = true
		}
	}
	return c
}

// Write prints a message (whole lines).
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shown {
		io.WriteString(c.w, "\r\x1b[K")
		c.shown = false
	}
	return c.w.Write(p)
}

// status shows a progress line: in place on a terminal, else as a line.
func (c *console) status(line string, final bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.tty {
		fmt.Fprintln(c.w, line)
		return
	}
	fmt.Fprintf(c.w, "\r%s\x1b[K", line)
	c.shown = true
	if final {
		io.WriteString(c.w, "\n")
		c.shown = false
	}
}

// progress reports one pass over the file: on a terminal at most five
// times a second, else every five seconds, and once at the end.
type progress struct {
	con   *console
	phase string
	size  int64
	began time.Time
	bytes atomic.Int64
	rows  atomic.Int64
	done  chan struct{}
	wg    sync.WaitGroup
}

func newProgress(con *console, phase string, size int64) *progress {
	p := &progress{con: con, phase: phase, size: size, began: time.Now(), done: make(chan struct{})}
	every := 5 * time.Second
	if con.tty {
		every = 200 * time.Millisecond
	}
	p.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				con.status(p.line(false), false)
			case <-p.done:
				return
			}
		}
	})
	return p
}

func (p *progress) update(bytes int64, rows int) {
	p.bytes.Store(bytes)
	p.rows.Store(int64(rows))
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.con.status(p.line(true), true)
}

func (p *progress) line(final bool) string {
	elapsed := time.Since(p.began)
	rows := p.rows.Load()
	rate := float64(rows) / max(elapsed.Seconds(), 1e-9)
	var b strings.Builder
	b.WriteString(p.phase)
	if p.size > 0 {
		frac := min(float64(p.bytes.Load())/float64(p.size), 1)
		const width = 24
		filled := int(frac * width)
		bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
		if filled < width && filled > 0 {
			bar = strings.Repeat("=", filled-1) + ">" + strings.Repeat(" ", width-filled)
		}
		fmt.Fprintf(&b, " [%s] %5.1f%%", bar, frac*100)
		fmt.Fprintf(&b, "  %d rows  %.0f rows/s", rows, rate)
		if frac > 0 && frac < 1 && !final {
			eta := time.Duration(float64(elapsed) * (1 - frac) / frac)
			fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
		}
	} else {
		fmt.Fprintf(&b, "  %d rows  %.0f rows/s", rows, rate)
	}
	if final {
		fmt.Fprintf(&b, "  in %s", round(elapsed))
	}
	return b.String()
}
