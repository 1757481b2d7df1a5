// Package ingest turns a request body into validated survey responses.
//
// It accepts one JSON object, a JSON array of objects, or NDJSON, and judges
// a batch whole: every problem of every item is reported, and either all
// responses are returned or none. Decoding (JSON into an Item of texts) is
// kept apart from validation (Validate, on an Item), so other producers —
// a CSV importer, a stream consumer — reuse the same rules and messages.
package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Options bound what one request may carry.
type Options struct {
	MaxBytes int64         // body size limit
	MaxItems int           // responses per batch
	MaxSkew  time.Duration // how far "at" may be ahead of the server clock
	MaxAge   time.Duration // how old "at" may be; match the store's id retention
	// Schema is the deployment's dimensions: its custom ones are accepted
	// as top-level fields. The zero value has the built-ins only.
	Schema store.Schema
}

// DefaultOptions returns the limits used for zero fields.
func DefaultOptions() Options {
	return Options{
		MaxBytes: 8 << 20,
		MaxItems: 10000,
		MaxSkew:  5 * time.Minute,
		MaxAge:   400 * 24 * time.Hour,
	}
}

// withDefaults replaces zero (or negative) limits by the defaults, so a
// caller can set only the limits it cares about.
func (o Options) withDefaults() Options {
	def := DefaultOptions()
	if o.MaxBytes <= 0 {
		o.MaxBytes = def.MaxBytes
	}
	if o.MaxItems <= 0 {
		o.MaxItems = def.MaxItems
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = def.MaxSkew
	}
	if o.MaxAge <= 0 {
		o.MaxAge = def.MaxAge
	}
	return o
}

// Decoder decodes and validates request bodies. It holds no state besides
// its options and is safe for concurrent use.
type Decoder struct{ opts Options }

// NewDecoder returns a decoder; zero fields of o take their defaults.
func NewDecoder(o Options) *Decoder { return &Decoder{opts: o.withDefaults()} }

// Options returns the decoder's effective limits, e.g. for the HTTP layer's
// http.MaxBytesReader.
func (d *Decoder) Options() Options { return d.opts }

// The media types Decode accepts.
const (
	TypeJSON   = "application/json"
	TypeNDJSON = "application/x-ndjson"
)

// Decode reads a whole body of the given Content-Type and returns its
// responses, every one valid, in body order. now is the receive time: the
// default for "at" and the reference for its limits.
//
// Errors are *fault.Error: Unsupported for a content type it cannot read,
// TooLarge for a body or batch over the limits, BadRequest (with the byte
// offset, or the NDJSON line and column) for a body that is not valid JSON or
// when reading it failed, Invalid (with one detail per problem) for valid
// JSON whose responses are wrong.
func (d *Decoder) Decode(body io.Reader, contentType string, now time.Time) ([]store.Response, error) {
	return d.DecodeKind(store.KindResponse, body, contentType, now)
}

// DecodeKind is Decode for items of kind: responses (Decode), or offers
// (POST /api/v1/offers), which are validated by ValidateOffer and come
// back as responses of Kind store.KindOffer. Formats, limits and errors
// are the same; messages name the items by their kind.
func (d *Decoder) DecodeKind(kind store.Kind, body io.Reader, contentType string, now time.Time) ([]store.Response, error) {
	ndjson, err := parseContentType(contentType)
	if err != nil {
		return nil, err
	}
	src := newCappedReader(body, d.opts.MaxBytes)
	b := &batch{opts: d.opts, now: now, kind: kind}
	b.problems.Noun = KindNoun(kind)
	if ndjson {
		err = d.readNDJSON(src, b)
	} else {
		err = d.readJSON(src, b)
	}
	if err != nil {
		return nil, d.readFault(err)
	}
	if b.items == 0 {
		return nil, fault.New(fault.Invalid, "the body holds no %s", KindNoun(kind))
	}
	if err := b.problems.Err(b.items); err != nil {
		return nil, err
	}
	return b.out, nil
}

// parseContentType tells NDJSON from JSON. An empty type is JSON, because
// curl and many scripts send none.
func parseContentType(ct string) (ndjson bool, err error) {
	if strings.TrimSpace(ct) == "" {
		return false, nil
	}
	unsupported := func(why string) error {
		return fault.New(fault.Unsupported, "content type %q is not supported%s; send %s or %s",
			ct, why, TypeJSON, TypeNDJSON)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, unsupported("")
	}
	// JSON is UTF-8 by definition (RFC 8259); reading another charset as
	// UTF-8 would store garbled text.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return false, unsupported(" (only the utf-8 charset is)")
	}
	switch mt {
	case TypeJSON:
		return false, nil
	case TypeNDJSON:
		return true, nil
	}
	return false, unsupported("")
}

// errTooLarge marks a body that went past MaxBytes.
var errTooLarge = errors.New("ingest: body too large")

// cappedReader enforces MaxBytes itself, so the package is safe without
// http.MaxBytesReader. It reads at most one byte past the limit (enough to
// know it was exceeded) and from then on fails every read.
type cappedReader struct {
	r        io.Reader
	n, limit int64
}

func newCappedReader(r io.Reader, limit int64) *cappedReader {
	return &cappedReader{r: io.LimitReader(r, limit+1), limit: limit}
}

func (c *cappedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, errTooLarge
	}
	return n, err
}

// readFault turns a failure to read the body into its fault: an error the
// readers built themselves passes through.
func (d *Decoder) readFault(err error) error {
	var fe *fault.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, errTooLarge):
		return fault.New(fault.TooLarge, "body exceeds %s", sizeText(d.opts.MaxBytes))
	case errors.As(err, &mbe):
		return fault.Wrap(err, fault.TooLarge, "body exceeds %s", sizeText(mbe.Limit))
	}
	return fault.Wrap(err, fault.BadRequest, "could not read the request body")
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (d *Decoder) tooManyItems(b *batch) error {
	return fault.New(fault.TooLarge, "batch has more than %d %s", d.opts.MaxItems, KindNoun(b.kind))
}

// batch is the outcome of a body so far.
type batch struct {
	opts     Options
	now      time.Time
	kind     store.Kind
	out      []store.Response
	items    int
	problems Problems
}

// add decodes and validates one item. where prefixes whole-item reasons with
// the NDJSON line, so the client can find it.
func (b *batch) add(index int, raw []byte, where string) {
	b.items++
	raw = bytes.TrimLeft(raw, jsonSpace)
	if len(raw) == 0 || raw[0] != '{' {
		b.problems.AddItem([]fault.Detail{{Index: index, Reason: where + "must be a JSON object"}})
		return
	}
	it, typeDetails := parseObject(index, raw, b.opts.Schema)
	r, details := ValidateKind(b.kind, index, it, b.now, b.opts)
	details = mergeDetails(typeDetails, details)
	if len(details) > 0 {
		b.problems.AddItem(details)
		b.out = nil // nothing will be returned; stop holding responses
		return
	}
	if b.problems.Items() == 0 {
		b.out = append(b.out, r)
	}
}

const jsonSpace = " \t\r\n"

// readJSON reads one object or an array of objects, streaming an array so a
// batch over MaxItems is refused without reading the rest.
func (d *Decoder) readJSON(src *cappedReader, b *batch) error {
	br := bufio.NewReader(src)
	first, skipped, err := peekValue(br)
	if err == io.EOF {
		return nil // empty body: no responses
	}
	if err != nil {
		return err
	}
	p := &jsonBody{dec: json.NewDecoder(br), br: br, base: skipped, src: src}
	switch first {
	case '[':
		return p.array(d, b)
	case '{':
		raw, err := p.value(0)
		if err != nil {
			return err
		}
		b.add(0, raw, "")
		return p.end()
	}
	if _, err := p.value(0); err != nil {
		return err
	}
	return invalidBody(fault.Detail{Index: 0, Reason: "must be a JSON object or an array of objects"},
		"the body must be a JSON object or an array of objects; nothing was recorded")
}

// peekValue skips leading white space and returns the first byte of the
// value, left unread, and how many bytes were skipped.
func peekValue(br *bufio.Reader) (byte, int64, error) {
	var skipped int64
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, skipped, err
		}
		if !strings.ContainsRune(jsonSpace, rune(c)) {
			return c, skipped, br.UnreadByte()
		}
		skipped++
	}
}

// jsonBody walks a JSON body and reports syntax errors at body offsets.
type jsonBody struct {
	dec  *json.Decoder
	br   *bufio.Reader // what dec reads from
	base int64         // bytes before the decoder's first byte
	src  *cappedReader // for the body length
}

// value reads the next value whole; index locates a syntax error in it.
func (p *jsonBody) value(index int) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return nil, p.syntaxFault(index, err)
	}
	return raw, nil
}

// array reads "[ item, ... ]" item by item.
func (p *jsonBody) array(d *Decoder, b *batch) error {
	if _, err := p.dec.Token(); err != nil {
		return p.syntaxFault(0, err)
	}
	i := 0
	for ; p.dec.More(); i++ {
		if i == d.opts.MaxItems {
			return d.tooManyItems(b)
		}
		raw, err := p.value(i)
		if err != nil {
			return p.withEarlier(b, err)
		}
		b.add(i, raw, "")
	}
	// More stops at "]", at a stray "}" or at a read error; Token tells.
	if _, err := p.dec.Token(); err != nil {
		return p.withEarlier(b, p.syntaxFault(i, err))
	}
	return p.end()
}

// withEarlier adds the problems of the items before a syntax error to its
// fault: the client learns about all it can fix in one round trip.
func (p *jsonBody) withEarlier(b *batch, err error) error {
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.BadRequest || len(fe.Details) == 0 || len(b.problems.details) == 0 {
		return err
	}
	earlier := b.problems.details[:min(len(b.problems.details), MaxDetails-len(fe.Details))]
	fe.Details = append(slices.Clone(earlier), fe.Details...)
	return fe
}

// end checks that only white space follows the value. It reads to the end
// of the body, which is also what catches a body over MaxBytes whose value
// happened to end before the limit.
func (p *jsonBody) end() error {
	rest := bufio.NewReader(io.MultiReader(p.dec.Buffered(), p.br))
	at := p.base + p.dec.InputOffset()
	c, skipped, err := peekValue(rest)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("invalid JSON at byte %d: unexpected data after the JSON value", at+skipped)
	if c == '{' {
		reason += fmt.Sprintf(" (for one object per line, send Content-Type %s)", TypeNDJSON)
	}
	return malformedBody(fault.Detail{Index: 0, Reason: reason})
}

// syntaxFault explains why the decoder failed at item index: a syntax error
// or a truncated body become a BadRequest fault with the byte offset; read
// errors pass through for readFault.
func (p *jsonBody) syntaxFault(index int, err error) error {
	var se *json.SyntaxError
	var reason string
	switch {
	case errors.As(err, &se):
		reason = fmt.Sprintf("invalid JSON at byte %d: %s", p.base+se.Offset, se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), err == io.EOF:
		// The whole body was read, so its length is where it ended.
		reason = fmt.Sprintf("invalid JSON at byte %d: unexpected end of input", p.src.n)
	default:
		return err
	}
	return malformedBody(fault.Detail{Index: index, Reason: reason})
}

// malformedBody is the fault of a body that is not JSON at all: 400, since
// the syntax is wrong, not the meaning (that is Invalid, 422).
func malformedBody(d fault.Detail) error {
	return &fault.Error{Code: fault.BadRequest, Message: "the body is not valid JSON; nothing was recorded", Details: []fault.Detail{d}}
}

func invalidBody(d fault.Detail, msg string) error {
	return &fault.Error{Code: fault.Invalid, Message: msg, Details: []fault.Detail{d}}
}

// readNDJSON reads one object per line. Lines are independent, so a broken
// line is one invalid item and the rest are still checked.
func (d *Decoder) readNDJSON(src *cappedReader, b *batch) error {
	br := bufio.NewReader(src)
	index := 0
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return err
		}
		if trimmed := bytes.Trim(text, jsonSpace); len(trimmed) > 0 {
			if index == d.opts.MaxItems {
				return d.tooManyItems(b)
			}
			b.addLine(index, line, text)
			index++
		}
		if err == io.EOF {
			return nil
		}
	}
}

// addLine adds one NDJSON line as item index; syntax errors name the line
// and the column (1-based bytes) since a line's offset is what an editor
// shows.
func (b *batch) addLine(index, line int, text []byte) {
	where := fmt.Sprintf("line %d: ", line)
	var raw json.RawMessage
	if err := json.Unmarshal(text, &raw); err != nil {
		reason := where + "invalid JSON: " + err.Error()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			reason = fmt.Sprintf("%sinvalid JSON at column %d: %s", where, se.Offset, se.Error())
		}
		b.items++
		b.problems.AddMalformed([]fault.Detail{{Index: index, Reason: reason}})
		b.out = nil
		return
	}
	b.add(index, raw, where)
}

// parseObject reduces one JSON object (already known to be valid JSON) to
// an Item. It reports what only JSON can get wrong: a value of the wrong
// JSON type, and fields nobody defined. null counts as absent.
func parseObject(index int, raw []byte, schema store.Schema) (Item, []fault.Detail) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Item{}, []fault.Detail{{Index: index, Reason: "must be a JSON object"}}
	}
	p := objectParser{index: index, fields: fields}
	it := Item{
		ID:      p.str(FieldID),
		Score:   p.number(FieldScore, "must be an integer from 0 to 10"),
		CSAT:    p.number(FieldCSAT, "must be an integer from 1 to 5"),
		OfferID: p.str(FieldOfferID),
		Channel: p.str(FieldChannel),
		Segment: p.str(FieldSegment),
		Team:    p.str(FieldTeam),
		Agent:   p.str(FieldAgent),
		Journey: p.str(FieldJourney),
		Comment: p.str(FieldComment),
		Tags:    p.strs(FieldTags),
		At:      p.str(FieldAt),
		Version: p.number(FieldVersion, fmt.Sprintf("must be an integer from 1 to %d", uint64(store.MaxVersion))),
	}
	for _, d := range schema.Custom() {
		if v := p.str(string(d)); v != nil {
			if it.Custom == nil {
				it.Custom = make(map[string]string, 1)
			}
			it.Custom[string(d)] = *v
		}
	}
	p.unknown(schema)
	return it, p.details
}

type objectParser struct {
	index   int
	fields  map[string]json.RawMessage
	details []fault.Detail
}

func (p *objectParser) fail(field, reason string) {
	p.details = append(p.details, fault.Detail{Index: p.index, Field: field, Reason: reason})
}

// get returns a field's raw value, or nil when it is absent or null.
func (p *objectParser) get(field string) json.RawMessage {
	v := bytes.Trim(p.fields[field], jsonSpace)
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return v
}

func (p *objectParser) str(field string) *string {
	v := p.get(field)
	if v == nil {
		return nil
	}
	s, reason := jsonString(v)
	if reason != "" {
		p.fail(field, reason)
		return nil
	}
	return &s
}

// jsonString decodes a JSON string. encoding/json would quietly replace
// invalid UTF-8 by U+FFFD, so the raw bytes are checked first.
func jsonString(v json.RawMessage) (string, string) {
	if v[0] != '"' {
		return "", "must be a string"
	}
	if !utf8.Valid(v) {
		return "", "must be valid UTF-8"
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", "must be a string"
	}
	return s, ""
}

// number returns a JSON number's literal text, so Validate can refuse 7.0
// and 1e1 rather than see the integer 7 or 10; reason is what a value of
// another JSON type gets.
func (p *objectParser) number(field, reason string) *string {
	v := p.get(field)
	if v == nil {
		return nil
	}
	if c := v[0]; c != '-' && (c < '0' || c > '9') {
		p.fail(field, reason)
		return nil
	}
	return new(string(v))
}

func (p *objectParser) strs(field string) []string {
	v := p.get(field)
	if v == nil {
		return nil
	}
	var elems []json.RawMessage
	if v[0] != '[' || json.Unmarshal(v, &elems) != nil {
		p.fail(field, "must be an array of strings")
		return nil
	}
	out := make([]string, len(elems))
	ok := true
	for i, e := range elems {
		s, reason := jsonString(e)
		if reason != "" {
			p.fail(field, fmt.Sprintf("%s[%d] %s", field, i, reason))
			ok = false
		}
		out[i] = s
	}
	if !ok {
		return nil
	}
	return out
}

// unknown reports fields the contract does not define: a typo such as
// "scroe" must not silently drop data.
func (p *objectParser) unknown(schema store.Schema) {
	var names []string
	for name := range p.fields {
		if !slices.Contains(fieldOrder, name) && (name == "" || !schema.Has(store.Dimension(name))) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		p.fail(fieldLabel(name), "unknown field")
	}
}

// fieldLabel shortens a client-chosen field name before echoing it back.
func fieldLabel(name string) string {
	const max = 64
	if utf8.RuneCountInString(name) <= max {
		return name
	}
	return string([]rune(name)[:max]) + "…"
}

// mergeDetails combines the JSON-level details of an item with Validate's.
// A field with a JSON-level problem was left out of the Item, so Validate's
// view of it ("is required") is dropped. The result is in field order.
func mergeDetails(typeDetails, details []fault.Detail) []fault.Detail {
	out := slices.Clone(typeDetails)
	for _, d := range details {
		if !slices.ContainsFunc(typeDetails, func(t fault.Detail) bool { return t.Field == d.Field }) {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b fault.Detail) int { return fieldRank(a.Field) - fieldRank(b.Field) })
	return out
}

// fieldRank orders details: the whole item first, then the defined fields,
// then unknown ones.
func fieldRank(field string) int {
	if field == "" {
		return -1
	}
	if i := slices.Index(fieldOrder, field); i >= 0 {
		return i
	}
	return len(fieldOrder)
}
