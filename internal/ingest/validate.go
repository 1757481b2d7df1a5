package ingest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
)

// The field names producers use, in every format. Details name the field
// they are about with these.
const (
	FieldID      = "id"
	FieldScore   = "score"
	FieldCSAT    = "csat"
	FieldOfferID = "offer_id"
	FieldChannel = "channel"
	FieldSegment = "segment"
	FieldTeam    = "team"
	FieldAgent   = "agent"
	FieldJourney = "journey"
	FieldComment = "comment"
	FieldTags    = "tags"
	FieldAt      = "at"
	FieldVersion = "version"
)

// fieldOrder is the order details of one item are listed in, so a client
// sees the same report for the same mistake every time. A schema's custom
// dimensions follow it, sorted by name.
var fieldOrder = []string{
	FieldID, FieldScore, FieldCSAT, FieldOfferID, FieldChannel, FieldSegment, FieldTeam, FieldAgent, FieldJourney,
	FieldComment, FieldTags, FieldAt, FieldVersion,
}

// offerFields are the fields an offer may carry: a response's, less what
// only an answer has (score, csat, offer_id, comment, tags).
var offerFields = []string{
	FieldID, FieldChannel, FieldSegment, FieldTeam, FieldAgent, FieldJourney, FieldAt, FieldVersion,
}

// FieldNames lists the fields a response may carry under the built-in
// dimensions, e.g. for a CSV importer mapping its header.
func FieldNames() []string { return slices.Clone(fieldOrder) }

// OfferFieldNames lists the fields an offer may carry under the built-in
// dimensions, in the same order as FieldNames.
func OfferFieldNames() []string { return slices.Clone(offerFields) }

// FieldNamesOf lists the fields a response may carry under a schema: the
// built-in fields, then the schema's custom dimensions.
func FieldNamesOf(s store.Schema) []string { return withCustom(fieldOrder, s) }

// FieldNamesOfKind lists the fields an item of kind may carry under a
// schema (FieldNamesOf for responses).
func FieldNamesOfKind(k store.Kind, s store.Schema) []string {
	if k == store.KindOffer {
		return withCustom(offerFields, s)
	}
	return withCustom(fieldOrder, s)
}

func withCustom(fields []string, s store.Schema) []string {
	out := slices.Clone(fields)
	for _, d := range s.Custom() {
		out = append(out, string(d))
	}
	return out
}

// KindNoun is how messages name items of a kind: "responses" or "offers".
func KindNoun(k store.Kind) string {
	if k == store.KindOffer {
		return "offers"
	}
	return "responses"
}

// Limits on field values. Lengths count characters (runes), not bytes.
const (
	MaxIDLen      = 128
	MaxDimLen     = 64
	MaxCommentLen = 2000
	MaxTags       = 16
	MaxTagLen     = 64
)

// Item is one response's (or offer's) fields as text, before anything is checked. Every
// producer format reduces to it: the JSON decoder fills it from an object
// (a score keeps its literal number text, so 7.0 can be told from 7), a CSV
// importer from cells, a stream consumer from entry fields.
//
// A nil pointer is an absent field; a pointer to "" is a field sent empty,
// which is an error for every field but comment. Go 1.26's new(expr) makes
// filling one from strings short: Item{ID: new(cell)}.
type Item struct {
	ID    *string
	Score *string // decimal digits only, e.g. "7"; may be absent when CSAT is given
	CSAT  *string // decimal digits, 1 to 5
	// OfferID names the offer the response answers; validated like ID.
	OfferID *string
	Channel *string
	Segment *string
	Team    *string
	Agent   *string
	Journey *string
	// Custom holds the values of dimensions other than the built-ins, by
	// field name; an absent key is an absent field. Validate rejects a name
	// its schema does not hold as an unknown field.
	Custom  map[string]string
	Comment *string
	Tags    []string // nil when absent
	At      *string  // RFC 3339; nil means "now"
	Version *string  // decimal digits, 1 to store.MaxVersion; nil means unversioned
}

// Validate checks every field of one item and builds the response it
// describes. It returns every problem it finds, each located at index, so a
// batch can be reported whole; the response is meaningful only when there
// are none. Zero options take their defaults.
func Validate(index int, it Item, now time.Time, o Options) (store.Response, []fault.Detail) {
	o = o.withDefaults()
	c := checker{index: index}
	var r store.Response
	r.ID = c.id(FieldID, it.ID)
	r.Score = c.score(it.Score, it.CSAT != nil)
	r.CSAT = c.csat(it.CSAT)
	if it.OfferID != nil {
		r.OfferID = c.id(FieldOfferID, it.OfferID)
	}
	c.dimsAndTime(&r, it, now, o)
	r.Comment = c.comment(it.Comment)
	r.Tags = c.tags(it.Tags)
	return r, c.sorted()
}

// ValidateOffer checks one offered survey as Validate checks a response:
// the same id, dimensions, time and version rules and messages. An offer
// carries nothing else; a field only answers have is an error naming it.
func ValidateOffer(index int, it Item, now time.Time, o Options) (store.Response, []fault.Detail) {
	o = o.withDefaults()
	c := checker{index: index}
	r := store.Response{Kind: store.KindOffer, Score: store.NoScore}
	r.ID = c.id(FieldID, it.ID)
	for _, f := range []struct {
		name    string
		present bool
	}{
		{FieldScore, it.Score != nil}, {FieldCSAT, it.CSAT != nil}, {FieldOfferID, it.OfferID != nil},
		{FieldComment, it.Comment != nil}, {FieldTags, it.Tags != nil},
	} {
		if f.present {
			c.fail(f.name, notOfferField)
		}
	}
	c.dimsAndTime(&r, it, now, o)
	return r, c.sorted()
}

// notOfferField is the reason given for a field only answers carry.
const notOfferField = "is not a field of an offer (an offer has id, dimensions, at and version; send the answer to /api/v1/responses)"

// ValidateKind validates an item of kind (Validate or ValidateOffer).
func ValidateKind(k store.Kind, index int, it Item, now time.Time, o Options) (store.Response, []fault.Detail) {
	if k == store.KindOffer {
		return ValidateOffer(index, it, now, o)
	}
	return Validate(index, it, now, o)
}

// dimsAndTime checks what responses and offers share besides the id: the
// dimensions, the time and the version.
func (c *checker) dimsAndTime(r *store.Response, it Item, now time.Time, o Options) {
	r.Dims = store.Dims{
		Channel: c.dim(FieldChannel, it.Channel, true),
		Segment: c.dim(FieldSegment, it.Segment, false),
		Team:    c.dim(FieldTeam, it.Team, false),
		Agent:   c.dim(FieldAgent, it.Agent, false),
		Journey: c.dim(FieldJourney, it.Journey, false),
	}
	if len(it.Custom) > 0 {
		c.custom(&r.Dims, it.Custom, o.Schema)
	}
	r.At, r.AtGiven = c.at(it.At, now, o)
	r.Version = c.version(it.Version)
}

// checker accumulates the details of one item: each method checks one field
// and returns its value, leaving a detail behind when it is wrong.
type checker struct {
	index   int
	details []fault.Detail
}

// sorted returns the details in field order, as the JSON decoder reports
// them (mergeDetails).
func (c *checker) sorted() []fault.Detail {
	slices.SortStableFunc(c.details, func(a, b fault.Detail) int { return fieldRank(a.Field) - fieldRank(b.Field) })
	return c.details
}

func (c *checker) fail(field, reason string) {
	c.details = append(c.details, fault.Detail{Index: c.index, Field: field, Reason: reason})
}

// id checks an id: the response's or offer's own (field id), or the
// offer a response answers (offer_id).
func (c *checker) id(field string, p *string) string {
	if p == nil {
		c.fail(field, "is required")
		return ""
	}
	s := *p
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		c.fail(field, "must be valid UTF-8")
	case n < 1 || n > MaxIDLen:
		c.fail(field, fmt.Sprintf("must be 1 to %d characters", MaxIDLen))
	case hasControl(s):
		// Ids end up in storage keys and log lines, where control
		// characters would corrupt or forge output.
		c.fail(field, "must not contain control characters")
	}
	return s
}

// score parses the NPS score; an answer with csat may leave it out
// (store.NoScore), one without must have it.
func (c *checker) score(p *string, hasCSAT bool) int {
	if p == nil {
		if hasCSAT {
			return store.NoScore
		}
		c.fail(FieldScore, "is required unless csat is given")
		return 0
	}
	n, ok := parseScore(*p)
	if !ok {
		c.fail(FieldScore, fmt.Sprintf("must be an integer from %d to %d", nps.MinScore, nps.MaxScore))
	}
	return n
}

// csat parses the 1..5 satisfaction score; 0 when absent.
func (c *checker) csat(p *string) int {
	if p == nil {
		return 0
	}
	n, ok := parseDigits(*p, csat.MinScore, csat.MaxScore)
	if !ok {
		c.fail(FieldCSAT, fmt.Sprintf("must be an integer from %d to %d", csat.MinScore, csat.MaxScore))
	}
	return n
}

// parseScore accepts only plain decimal digits: "7.0", "1e1", "+7" and " 7"
// all look like a mistake in the producer, and silently rounding or
// trimming them would hide it.
func parseScore(s string) (int, bool) { return parseDigits(s, nps.MinScore, nps.MaxScore) }

// parseDigits reads one or two decimal digits within lo..hi.
func parseDigits(s string, lo, hi int) (int, bool) {
	if s == "" || len(s) > 2 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// version parses the producer's version of a response: plain digits, like a
// score, from 1 (0 would read as "no version" to the store) to
// store.MaxVersion.
func (c *checker) version(p *string) uint64 {
	if p == nil {
		return 0
	}
	s := *p
	v, err := strconv.ParseUint(s, 10, 64)
	if len(s) > 16 || strings.TrimLeft(s, "0123456789") != "" || err != nil || v < 1 || v > store.MaxVersion {
		c.fail(FieldVersion, fmt.Sprintf("must be an integer from 1 to %d", uint64(store.MaxVersion)))
		return 0
	}
	return v
}

// custom checks the values of custom dimensions, in name order, and
// rejects names the schema does not hold, as the JSON decoder rejects
// unknown fields.
func (c *checker) custom(d *store.Dims, vals map[string]string, s store.Schema) {
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !s.IsCustom(store.Dimension(name)) {
			c.fail(name, "unknown field")
			continue
		}
		v := vals[name]
		if reason := dimProblem(v); reason != "" {
			c.fail(name, reason)
			continue
		}
		d.Set(store.Dimension(name), v)
	}
}

func (c *checker) dim(field string, p *string, required bool) string {
	if p == nil {
		if required {
			c.fail(field, "is required")
		}
		return ""
	}
	if reason := dimProblem(*p); reason != "" {
		c.fail(field, reason)
	}
	return *p
}

// ValueProblem explains why a dimension value is unusable, or returns "":
// the one rule for values, also applied to values that arrive in a board
// template's URL or its listed set.
func ValueProblem(s string) string { return dimProblem(s) }

// dimProblem explains why a dimension value is unusable, or returns "".
// Values become parts of storage keys and group names joined by "/", and
// appear on a wallboard, so they are limited to a safe, visible alphabet.
func dimProblem(s string) string {
	if len(s) < 1 || utf8.RuneCountInString(s) > MaxDimLen {
		return fmt.Sprintf("must be 1 to %d characters", MaxDimLen)
	}
	for i := 0; i < len(s); i++ {
		if !dimByte(s[i]) {
			return "may hold only ASCII letters, digits, spaces and -_.@"
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		// "web" and "web " would otherwise be two groups that look alike.
		return "must not start or end with a space"
	}
	return ""
}

func dimByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case ' ', '-', '_', '.', '@':
		return true
	}
	return false
}

func (c *checker) comment(p *string) string {
	if p == nil {
		return ""
	}
	s := *p
	switch {
	case !utf8.ValidString(s):
		c.fail(FieldComment, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > MaxCommentLen:
		c.fail(FieldComment, fmt.Sprintf("must be at most %d characters", MaxCommentLen))
	}
	return s
}

// tags returns nil for an empty list as for an absent one: both mean "no
// tags", and the store compares content on upsert.
func (c *checker) tags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	if len(tags) > MaxTags {
		c.fail(FieldTags, fmt.Sprintf("must hold at most %d tags", MaxTags))
		return nil
	}
	for i, t := range tags {
		switch n := utf8.RuneCountInString(t); {
		case !utf8.ValidString(t):
			c.fail(FieldTags, fmt.Sprintf("tags[%d] must be valid UTF-8", i))
		case n < 1 || n > MaxTagLen:
			c.fail(FieldTags, fmt.Sprintf("tags[%d] must be 1 to %d characters", i, MaxTagLen))
		case hasControl(t):
			c.fail(FieldTags, fmt.Sprintf("tags[%d] must not contain control characters", i))
		}
	}
	return slices.Clone(tags)
}

// at parses the answer time. An absent time is the receive time, flagged as
// defaulted so a repeat of the response keeps its first time.
func (c *checker) at(p *string, now time.Time, o Options) (time.Time, bool) {
	if p == nil {
		// Round(0) drops the monotonic reading: At is data, compared and
		// stored, not a stopwatch.
		return now.Round(0).UTC(), false
	}
	t, err := time.Parse(time.RFC3339Nano, *p)
	if err != nil {
		c.fail(FieldAt, "must be an RFC 3339 time such as 2025-01-31T09:30:00Z")
		return time.Time{}, true
	}
	t = t.UTC()
	switch {
	case t.Sub(now) > o.MaxSkew:
		c.fail(FieldAt, fmt.Sprintf("is in the future (more than %s ahead of the server clock)", o.MaxSkew))
	case now.Sub(t) > o.MaxAge:
		// The store forgets ids after this long; accepting an older
		// response could count one twice.
		c.fail(FieldAt, fmt.Sprintf("is older than the %s retention", durationText(o.MaxAge)))
	}
	return t, true
}

// durationText spells whole days as days: "400 days" reads better than
// 9600h0m0s.
func durationText(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%d-day", d/day)
	}
	return d.String()
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// MaxDetails caps the details of one batch error, so a hostile or broken
// batch cannot make the error response larger than the batch.
const MaxDetails = 100

// Problems gathers the details of a batch. It keeps the first MaxDetails
// but counts them all, so the message can say how many were left out.
type Problems struct {
	details []fault.Detail
	total   int // details seen, kept or not
	items   int // items with at least one detail
	// malformed is set when an item was not JSON at all (an NDJSON line):
	// the batch is then a bad request (400) rather than invalid (422).
	malformed bool
	// Noun names the items in the message: "responses" when empty.
	Noun string
}

// AddItem records the details of one item; an empty list is a valid item.
func (p *Problems) AddItem(details []fault.Detail) {
	if len(details) == 0 {
		return
	}
	p.items++
	p.total += len(details)
	room := MaxDetails - len(p.details)
	p.details = append(p.details, details[:min(room, len(details))]...)
}

// AddMalformed records the details of an item that is not valid JSON.
func (p *Problems) AddMalformed(details []fault.Detail) {
	p.malformed = true
	p.AddItem(details)
}

// Items reports how many items had problems.
func (p *Problems) Items() int { return p.items }

// Err returns the error for a batch of total items, or nil when every item
// was valid. The message says nothing was recorded because a batch is all
// or nothing: the client fixes the listed items and sends it all again.
func (p *Problems) Err(total int) error {
	if p.items == 0 {
		return nil
	}
	noun := p.Noun
	if noun == "" {
		noun = "responses"
	}
	msg := fmt.Sprintf("%d of %d %s are invalid; nothing was recorded", p.items, total, noun)
	if p.total > len(p.details) {
		msg += fmt.Sprintf(" (only the first %d of %d problems are listed)", len(p.details), p.total)
	}
	code := fault.Invalid
	if p.malformed {
		code = fault.BadRequest
	}
	return &fault.Error{Code: code, Message: msg, Details: slices.Clone(p.details)}
}
