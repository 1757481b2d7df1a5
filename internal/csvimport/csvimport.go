// Package csvimport reads survey responses (or offered surveys, with
// Options.Kind) from a CSV file, one row at a time, and validates each with
// the same rules as the HTTP API (ingest.Validate, ingest.ValidateOffer), so
// a file can be checked before anything is sent.
//
// # Header
//
// The first line is the header. Columns are matched to response fields by
// name, case-insensitively, ignoring surrounding spaces and reading inner
// spaces or hyphens as "_". Besides its own name, a field is found under
// these aliases:
//
//	id      response_id, survey_id
//	score   nps, rating, nps_score
//	csat    csat_score
//	channel source
//	team    team_name
//	agent   agent_name
//	comment feedback, verbatim
//	at      created_at, answered_at, timestamp, date
//
// segment, tags and offer_id have no alias. A Mapping names a field's column
// explicitly and overrides the aliases. Other columns are ignored. channel,
// and score or csat, must have a column; NewReader fails before reading any
// row when one has none, or when two columns could both be the same field.
// Offers have the fields id, channel, segment, team, agent, journey, at,
// version and configured dimensions; only channel needs a column, and
// other columns (a score, say) are ignored.
//
// # Cells
//
// Cells are trimmed of surrounding spaces, except comments. An empty cell is
// an absent field: for segment, team, agent, comment, tags and at that is
// allowed; an empty id, score or channel makes the row invalid. Tags are
// separated by ';' or '|' within their cell. Times (see ParseTime) may be
// RFC 3339, with or without fractional seconds; 2006-01-02 15:04:05,
// 2006-01-02T15:04:05, 2006-01-02 15:04, 2006-01-02; 01/02/2006 15:04,
// 01/02/2006 (month first); 02.01.2006 15:04 (day first); or Unix seconds.
// Those without an offset are in Options.Location (the center's time zone).
// An empty time means "when the server receives it", as in the API. A UTF-8 byte order mark before the header is
// skipped. Rows whose cells are all empty are skipped.
//
// # Derived ids
//
// Without an id column, each row's id is "csv-" followed by the first 16 hex
// digits of the SHA-256 of the row's mapped cells (every field but id, in
// field order, trimmed, joined by a separator). Importing the same file
// again gives the same ids, so the responses come back as duplicates instead
// of being counted twice: an import can safely be re-run after a failure.
// Editing a row changes its id, so the edited row is a new response and the
// old one stays; rows that are identical in every mapped column are one
// response. Give the file an id column when either matters.
//
// # Line numbers
//
// Rows are located by the line of the file where they start (the header is
// line 1), counting the lines inside quoted multi-line cells, so a message
// such as "line 17: score: must be an integer from 0 to 10" points at what
// an editor shows.
package csvimport

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Options configure a Reader. Zero values take defaults.
type Options struct {
	// Mapping overrides the header aliases: field → column name.
	Mapping Mapping
	// Location is the time zone of times without an offset; nil is UTC.
	Location *time.Location
	// Now is the clock rows are validated against; nil is time.Now.
	Now func() time.Time
	// Limits are the ingest limits rows are checked with ("at" no more than
	// MaxSkew ahead, at most MaxAge old); zero fields take their defaults.
	Limits ingest.Options
	// Comma is the field delimiter; 0 means ','.
	Comma rune
	// Kind is what the rows are: responses (the zero value) or offered
	// surveys (store.KindOffer), validated as POST /api/v1/offers does.
	Kind store.Kind
}

// Row is one data row of the file.
type Row struct {
	// Line is where the row starts in the file; the header is line 1.
	Line int
	// Response is the validated response (or offer, of Kind
	// store.KindOffer); meaningless when Problems is not empty.
	Response store.Response
	// Problems explain why the row is invalid, one per field, each like
	// "line 17: score: must be an integer from 0 to 10".
	Problems []string
}

// Valid reports whether the row can be imported.
func (r Row) Valid() bool { return len(r.Problems) == 0 }

// Reader reads rows from a CSV stream. It holds one row at a time, so a file
// of any length is read in constant memory. It is not safe for concurrent
// use.
type Reader struct {
	csv     *csv.Reader
	opts    Options
	header  []string
	cols    columns
	fields  fieldSet
	bom     int64
	derived bool
	hash    []byte // scratch for derived ids
}

// NewReader reads the header from r and maps its columns. It fails when the
// input is empty, the header cannot be read, or the mapping is incomplete or
// ambiguous (a *MissingFieldError when score or channel has no column).
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	br := bufio.NewReaderSize(r, 64<<10)
	rd := &Reader{opts: opts}
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
		rd.bom = 3
	}
	rd.csv = csv.NewReader(br) // uses br itself: it is already a large enough *bufio.Reader
	if opts.Comma != 0 {
		rd.csv.Comma = opts.Comma
	}
	rd.csv.FieldsPerRecord = -1 // rows are checked against the header here, with a better message
	rd.csv.ReuseRecord = true
	header, err := rd.csv.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: it needs a header line")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	rd.header = append([]string(nil), header...)
	if err := opts.Mapping.CheckKind(opts.Kind, opts.Limits.Schema); err != nil {
		return nil, err
	}
	rd.fields = fieldsOf(opts.Kind, opts.Limits.Schema)
	if rd.cols, err = mapHeader(rd.header, opts.Mapping, rd.fields, opts.Kind); err != nil {
		return nil, err
	}
	rd.derived = rd.cols[rd.fields.index[ingest.FieldID]] < 0
	return rd, nil
}

// Columns says which header column each mapped field was read from.
func (r *Reader) Columns() Mapping {
	m := Mapping{}
	for f, i := range r.fields.index {
		if c := r.cols[i]; c >= 0 {
			m[f] = strings.TrimSpace(r.header[c])
		}
	}
	return m
}

// DerivedIDs reports whether ids are derived from row contents, because the
// file has no id column.
func (r *Reader) DerivedIDs() bool { return r.derived }

// InputOffset is how many bytes of the input have been consumed, for
// progress reports. It runs a little ahead of the rows returned, by what is
// buffered.
func (r *Reader) InputOffset() int64 { return r.bom + r.csv.InputOffset() }

// Next returns the next row, valid or not, or io.EOF after the last one.
// A row the CSV syntax cannot read (a stray quote, say) is returned as an
// invalid row, and reading goes on with the next line. Any other error is a
// failure to read the input.
func (r *Reader) Next() (Row, error) {
	for {
		rec, err := r.csv.Read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			reason := pe.Err.Error()
			if pe.Line != pe.StartLine {
				reason = fmt.Sprintf("%s (at line %d)", reason, pe.Line)
			}
			return Row{Line: pe.StartLine, Problems: []string{fmt.Sprintf("line %d: %s", pe.StartLine, reason)}}, nil
		}
		if err != nil {
			return Row{}, err
		}
		if allEmpty(rec) {
			continue
		}
		line, _ := r.csv.FieldPos(0)
		return r.row(line, rec), nil
	}
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// row turns one record into a validated response.
func (r *Reader) row(line int, rec []string) Row {
	row := Row{Line: line}
	if len(rec) < len(r.header) {
		row.Problems = append(row.Problems, fmt.Sprintf("line %d: has %d fields but the header has %d", line, len(rec), len(r.header)))
		return row
	}
	for i := len(r.header); i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			// Most often an unquoted comma in a comment, which shifts every
			// column after it.
			row.Problems = append(row.Problems, fmt.Sprintf("line %d: has %d fields but the header has %d (quote cells that contain %q)",
				line, len(rec), len(r.header), r.csv.Comma))
			return row
		}
	}
	cell := func(field string) *string {
		i, ok := r.fields.index[field]
		if !ok {
			return nil // not a field of this kind
		}
		c := r.cols[i]
		if c < 0 {
			return nil
		}
		v := rec[c]
		if field != ingest.FieldComment {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			return nil
		}
		return &v
	}
	it := ingest.Item{
		ID:      cell(ingest.FieldID),
		Score:   cell(ingest.FieldScore),
		CSAT:    cell(ingest.FieldCSAT),
		OfferID: cell(ingest.FieldOfferID),
		Channel: cell(ingest.FieldChannel),
		Segment: cell(ingest.FieldSegment),
		Team:    cell(ingest.FieldTeam),
		Agent:   cell(ingest.FieldAgent),
		Journey: cell(ingest.FieldJourney),
		Comment: cell(ingest.FieldComment),
		Version: cell(ingest.FieldVersion),
	}
	for _, d := range r.opts.Limits.Schema.Custom() {
		if v := cell(string(d)); v != nil {
			if it.Custom == nil {
				it.Custom = map[string]string{}
			}
			it.Custom[string(d)] = *v
		}
	}
	if tags := cell(ingest.FieldTags); tags != nil {
		it.Tags = splitTags(*tags)
	}
	if r.derived {
		it.ID = new(r.deriveID(rec))
	}
	var atProblem string
	if at := cell(ingest.FieldAt); at != nil {
		t, err := ParseTime(*at, r.opts.Location)
		if err != nil {
			atProblem = err.Error()
		} else {
			it.At = new(t.UTC().Format(time.RFC3339Nano))
		}
	}
	resp, details := ingest.ValidateKind(r.opts.Kind, line, it, r.opts.Now(), r.opts.Limits)
	for _, d := range details {
		row.Problems = append(row.Problems, fmt.Sprintf("line %d: %s: %s", d.Index, d.Field, d.Reason))
	}
	if atProblem != "" {
		row.Problems = append(row.Problems, fmt.Sprintf("line %d: %s: %s", line, ingest.FieldAt, atProblem))
	}
	row.Response = resp
	return row
}

// splitTags splits a tags cell at ';' or '|', dropping empty tags.
func splitTags(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' })
	tags := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			tags = append(tags, p)
		}
	}
	return tags
}

// legacyIDFields are the fields a derived id hashed before journey and
// configured dimensions existed, in that order. The version is not part of
// what the answer is, and leaving it out keeps the ids files got before
// versions existed.
var legacyIDFields = []string{
	ingest.FieldScore, ingest.FieldChannel, ingest.FieldSegment, ingest.FieldTeam, ingest.FieldAgent,
	ingest.FieldComment, ingest.FieldTags, ingest.FieldAt,
}

// idSeparator joins cells for a derived id; it cannot be typed in a cell
// by accident, so "a","bc" and "ab","c" hash differently.
const idSeparator = "\x1f"

// deriveID hashes the row's mapped cells (all fields but id, in field
// order, trimmed). See the package documentation.
func (r *Reader) deriveID(rec []string) string {
	h := sha256.New()
	for _, f := range legacyIDFields {
		if i, ok := r.fields.index[f]; ok && r.cols[i] >= 0 {
			h.Write([]byte(strings.TrimSpace(rec[r.cols[i]])))
		}
		h.Write([]byte(idSeparator))
	}
	// Journey and configured dimensions count only when the file has
	// their column, each named, so a file without them keeps the ids it
	// got before they existed and a re-import stays a duplicate.
	for i, f := range r.fields.names {
		if c := r.cols[i]; c >= 0 && !slices.Contains(legacyIDFields, f) && f != ingest.FieldID && f != ingest.FieldVersion {
			h.Write([]byte(f + "=" + strings.TrimSpace(rec[c])))
			h.Write([]byte(idSeparator))
		}
	}
	r.hash = h.Sum(r.hash[:0])
	return "csv-" + hex.EncodeToString(r.hash[:8])
}
