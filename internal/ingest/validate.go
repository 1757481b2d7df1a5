package ingest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
)

// The field names producers use, in every format. Details name the field
// they are about with these.
const (
	FieldID      = "id"
	FieldScore   = "score"
	FieldChannel = "channel"
	FieldSegment = "segment"
	FieldTeam    = "team"
	FieldAgent   = "agent"
	FieldComment = "comment"
	FieldTags    = "tags"
	FieldAt      = "at"
	FieldVersion = "version"
)

// fieldOrder is the order details of one item are listed in, so a client
// sees the same report for the same mistake every time.
var fieldOrder = []string{
	FieldID, FieldScore, FieldChannel, FieldSegment, FieldTeam, FieldAgent,
	FieldComment, FieldTags, FieldAt, FieldVersion,
}

// FieldNames lists the fields a response may carry, e.g. for a CSV importer
// mapping its header.
func FieldNames() []string { return slices.Clone(fieldOrder) }

// Limits on field values. Lengths count characters (runes), not bytes.
const (
	MaxIDLen      = 128
	MaxDimLen     = 64
	MaxCommentLen = 2000
	MaxTags       = 16
	MaxTagLen     = 64
)

// Item is one response's fields as text, before anything is checked. Every
// producer format reduces to it: the JSON decoder fills it from an object
// (a score keeps its literal number text, so 7.0 can be told from 7), a CSV
// importer from cells, a stream consumer from entry fields.
//
// A nil pointer is an absent field; a pointer to "" is a field sent empty,
// which is an error for every field but comment. Go 1.26's new(expr) makes
// filling one from strings short: Item{ID: new(cell)}.
type Item struct {
	ID      *string
	Score   *string // decimal digits only, e.g. "7"
	Channel *string
	Segment *string
	Team    *string
	Agent   *string
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
	r.ID = c.id(it.ID)
	r.Score = c.score(it.Score)
	r.Dims = store.Dims{
		Channel: c.dim(FieldChannel, it.Channel, true),
		Segment: c.dim(FieldSegment, it.Segment, false),
		Team:    c.dim(FieldTeam, it.Team, false),
		Agent:   c.dim(FieldAgent, it.Agent, false),
	}
	r.Comment = c.comment(it.Comment)
	r.Tags = c.tags(it.Tags)
	r.At, r.AtGiven = c.at(it.At, now, o)
	r.Version = c.version(it.Version)
	return r, c.details
}

// checker accumulates the details of one item: each method checks one field
// and returns its value, leaving a detail behind when it is wrong.
type checker struct {
	index   int
	details []fault.Detail
}

func (c *checker) fail(field, reason string) {
	c.details = append(c.details, fault.Detail{Index: c.index, Field: field, Reason: reason})
}

func (c *checker) id(p *string) string {
	if p == nil {
		c.fail(FieldID, "is required")
		return ""
	}
	s := *p
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		c.fail(FieldID, "must be valid UTF-8")
	case n < 1 || n > MaxIDLen:
		c.fail(FieldID, fmt.Sprintf("must be 1 to %d characters", MaxIDLen))
	case hasControl(s):
		// Ids end up in storage keys and log lines, where control
		// characters would corrupt or forge output.
		c.fail(FieldID, "must not contain control characters")
	}
	return s
}

func (c *checker) score(p *string) int {
	if p == nil {
		c.fail(FieldScore, "is required")
		return 0
	}
	n, ok := parseScore(*p)
	if !ok {
		c.fail(FieldScore, fmt.Sprintf("must be an integer from %d to %d", nps.MinScore, nps.MaxScore))
	}
	return n
}

// parseScore accepts only plain decimal digits: "7.0", "1e1", "+7" and " 7"
// all look like a mistake in the producer, and silently rounding or
// trimming them would hide it.
func parseScore(s string) (int, bool) {
	if s == "" || len(s) > 2 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < nps.MinScore || n > nps.MaxScore {
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
	msg := fmt.Sprintf("%d of %d responses are invalid; nothing was recorded", p.items, total)
	if p.total > len(p.details) {
		msg += fmt.Sprintf(" (only the first %d of %d problems are listed)", len(p.details), p.total)
	}
	code := fault.Invalid
	if p.malformed {
		code = fault.BadRequest
	}
	return &fault.Error{Code: code, Message: msg, Details: slices.Clone(p.details)}
}

// ValueProblem explains why a dimension value would be refused at ingest,
// or returns "". No stored group can hold such a value, so a query for one
// (a console address someone edited) is a mistake to report, not to run.
func ValueProblem(s string) string { return dimProblem(s) }
