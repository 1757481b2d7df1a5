package store

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
)

// Entry is what an engine remembers of a response id to upsert it later:
// a fingerprint of its content, its time, its score, its version (0: none)
// and the group it added to in every rollup. Keeping the groups (not the raw dimensions) lets an
// engine retract an old contribution without recomputing it, even after the
// rollup configuration changed.
type Entry struct {
	FP string
	At int64 // unix seconds
	// Score is the NPS score, NoScore for an answer without one (CSAT
	// only) and for an offer.
	Score int
	// CSAT is the 1..5 satisfaction score, 0 for none.
	CSAT int
	// Offer marks an offered survey's entry (stored under the offer's
	// id, apart from responses); Answered, that a response to it came.
	Offer, Answered bool
	Version         uint64
	Groups          []RollupGroup
}

// HasScore reports whether the entry counts an NPS score: the only entries
// that take part in NPS, detractor alerts and feeds of answers.
func (e Entry) HasScore() bool { return !e.Offer && e.Score >= 0 }

// RollupGroup is one group a response counts in.
type RollupGroup struct {
	Rollup string
	Group  string
}

// EntryOf computes the entry of a validated response under rollups.
func EntryOf(r Response, rollups []Rollup) Entry {
	e := Entry{FP: Fingerprint(r), At: r.At.Unix(), Score: r.Score, CSAT: r.CSAT, Version: r.Version,
		Groups: make([]RollupGroup, 0, len(rollups))} // one allocation, not one per doubling
	if r.Kind == KindOffer {
		e.Score, e.CSAT, e.Offer = NoScore, 0, true
	}
	var groups []string
	for _, ru := range rollups {
		groups = ru.AppendGroups(groups[:0], r.Dims, r.Themes)
		for _, g := range groups {
			e.Groups = append(e.Groups, RollupGroup{Rollup: ru.Name(), Group: g})
		}
	}
	return e
}

// Minute is the id of the entry's minute bucket.
func (e Entry) Minute() int64 { return window.Calendar{}.Bucket(window.Minute, time.Unix(e.At, 0)) }

// Same reports whether a new version of a response (n) is a duplicate of the
// stored one (e): same content, and the same time unless the producer left
// the time out. Versions do not take part: Stale judges them first.
func (e Entry) Same(n Entry, atGiven bool) bool {
	return e.FP == n.FP && (!atGiven || e.At == n.At)
}

// Stale reports whether n is an older version of the stored response e: both
// carry a version and n's is lower. record.lua applies the same rule.
func (e Entry) Stale(n Entry) bool {
	return n.Version != 0 && n.Version < e.Version
}

// Cells writes the counters the entry adds to in each of its groups,
// comma-separated (see Tally.AddCell): "7" for an NPS answer alone, as
// every entry was before CSAT and offers, "7,c4" with CSAT, "c4" for CSAT
// alone, "o" for an offer and "o,a" for an answered one.
func (e Entry) Cells() string {
	c, n := e.cells()
	switch n {
	case 0:
		return ""
	case 1:
		return cellName(c[0])
	}
	return cellName(c[0]) + "," + cellName(c[1])
}

// parseCells reads Cells' output into e.
func (e *Entry) parseCells(s string) error {
	e.Score = NoScore
	for cell := range strings.SplitSeq(s, ",") {
		i, err := cellIndex(cell)
		switch {
		case err != nil:
			return err
		case i < firstCSATCell:
			e.Score = int(i)
		case i < offeredCell:
			e.CSAT = int(i-firstCSATCell) + 1
		case i == offeredCell:
			e.Offer = true
		default:
			e.Answered = true
		}
	}
	return nil
}

// Encode writes the entry in the compact form the Redis engine stores and
// its Lua script parses: "fp;at;cells;v<version>;rollup=group;...", the
// version part only when there is one, so entries written before versions
// existed read as unversioned. Separators cannot occur in values: dimension
// values are validated to [A-Za-z0-9 -_.@], and a group part always holds
// "=" where the version part never does.
func (e Entry) Encode() string {
	var b strings.Builder
	b.WriteString(e.FP)
	b.WriteByte(';')
	b.WriteString(strconv.FormatInt(e.At, 10))
	b.WriteByte(';')
	b.WriteString(e.Cells())
	if e.Version != 0 {
		b.WriteString(";v")
		b.WriteString(strconv.FormatUint(e.Version, 10))
	}
	for _, g := range e.Groups {
		b.WriteByte(';')
		b.WriteString(g.Rollup)
		b.WriteByte('=')
		b.WriteString(g.Group)
	}
	return b.String()
}

// DecodeEntry parses Encode's output.
func DecodeEntry(s string) (Entry, error) {
	parts := strings.Split(s, ";")
	if len(parts) < 3 {
		return Entry{}, fmt.Errorf("decode entry %q: too few parts", s)
	}
	at, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("decode entry %q: time: %w", s, err)
	}
	e := Entry{FP: parts[0], At: at}
	if err := e.parseCells(parts[2]); err != nil {
		return Entry{}, fmt.Errorf("decode entry %q: %w", s, err)
	}
	groups := parts[3:]
	if len(groups) > 0 && strings.HasPrefix(groups[0], "v") && !strings.Contains(groups[0], "=") {
		if e.Version, err = strconv.ParseUint(groups[0][1:], 10, 64); err != nil {
			return Entry{}, fmt.Errorf("decode entry %q: version: %w", s, err)
		}
		groups = groups[1:]
	}
	for _, p := range groups {
		name, group, ok := strings.Cut(p, "=")
		if !ok {
			return Entry{}, fmt.Errorf("decode entry %q: group %q", s, p)
		}
		e.Groups = append(e.Groups, RollupGroup{Rollup: name, Group: group})
	}
	return e, nil
}

// Fingerprint hashes a response's content except its time, which Same
// compares separately. Two versions with equal fingerprints are the same
// answer.
func Fingerprint(r Response) string {
	h := fnv.New64a()
	// A length-prefixed encoding so that no two different contents hash the
	// same input.
	write := func(s string) {
		fmt.Fprintf(h, "%d:%s|", len(s), s)
	}
	if r.Kind == KindOffer {
		// Offers live apart from responses; the mark keeps their
		// fingerprints apart too, whatever a future key layout does.
		write("offer")
	} else {
		write(strconv.Itoa(r.Score))
	}
	write(r.Dims.Channel)
	write(r.Dims.Segment)
	write(r.Dims.Team)
	write(r.Dims.Agent)
	write(r.Comment)
	for _, t := range r.Tags {
		write(t)
	}
	// Journey and custom dimensions come last, and only when present, so a
	// response without them hashes exactly as before they existed (a resend
	// after an upgrade stays a duplicate). Each is one "#"-led part naming
	// its dimension: every earlier part starts with a digit, so no content
	// without them produces the same input.
	extra := func(d Dimension, v string) {
		fmt.Fprintf(h, "#%d:%s=%d:%s|", len(d), d, len(v), v)
	}
	if r.Dims.Journey != "" {
		extra(Journey, r.Dims.Journey)
	}
	for _, c := range r.Dims.Custom() {
		extra(c.Dim, c.Value)
	}
	// CSAT and the offer an answer names came after that, the same way.
	if r.CSAT != 0 {
		fmt.Fprintf(h, "#csat=%d|", r.CSAT)
	}
	if r.OfferID != "" {
		fmt.Fprintf(h, "#offer=%d:%s|", len(r.OfferID), r.OfferID)
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// Payload is the part of a response the change log carries for consumers
// that show individual answers (comment feeds, detractor alerts). Counting
// uses the entries, which hold the effective time.
type Payload struct {
	ID string `json:"id"`
	// Kind is "offer" for an offer's change (no answer to show: feeds and
	// detractor alerts skip it), empty for a response.
	Kind string `json:"kind,omitempty"`
	// Score is the NPS score, NoScore (-1) for an answer with CSAT alone.
	Score int `json:"score"`
	// CSAT is the 1..5 satisfaction score, absent when not given.
	CSAT int `json:"csat,omitempty"`
	// OfferID is the offer the answer names, when it names one.
	OfferID string   `json:"offer_id,omitempty"`
	Channel string   `json:"channel,omitempty"`
	Segment string   `json:"segment,omitempty"`
	Team    string   `json:"team,omitempty"`
	Agent   string   `json:"agent,omitempty"`
	Comment string   `json:"comment,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	// Journey and Custom came later; payloads written before lack them and
	// decode with both empty.
	Journey string `json:"journey,omitempty"`
	// Custom holds the operator's own dimensions by name.
	Custom map[string]string `json:"dims,omitempty"`
	// Themes are the themes found in the comment when it was recorded (the
	// groups it counts in), sorted; payloads written before themes lack it.
	Themes []string `json:"themes,omitempty"`
}

// Dims returns the dimension values the payload carries. A custom value
// beyond what a Dims can hold (a payload no engine writes) is dropped.
func (p Payload) Dims() Dims {
	d := Dims{Channel: p.Channel, Segment: p.Segment, Journey: p.Journey, Team: p.Team, Agent: p.Agent}
	names := make([]string, 0, len(p.Custom))
	for name := range p.Custom {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		if i == maxCustom {
			break
		}
		d.Set(Dimension(name), p.Custom[name])
	}
	return d
}

// HasScore reports whether the payload is an answer with an NPS score:
// what feeds of answers and detractor alerts show.
func (p Payload) HasScore() bool { return p.Kind == "" && p.Score >= 0 }

// PayloadOf extracts the payload of a response, JSON-encoded. An offer's
// payload carries its kind, id and dimensions.
func PayloadOf(r Response) []byte {
	if r.Kind == KindOffer {
		r.Score, r.CSAT, r.Comment, r.Tags, r.Themes, r.OfferID = NoScore, 0, "", nil, nil, ""
	}
	p := Payload{
		ID: r.ID, Score: r.Score, CSAT: r.CSAT, OfferID: r.OfferID,
		Channel: r.Dims.Channel, Segment: r.Dims.Segment, Team: r.Dims.Team, Agent: r.Dims.Agent,
		Comment: r.Comment, Tags: r.Tags, Journey: r.Dims.Journey, Themes: r.Themes,
	}
	if r.Kind == KindOffer {
		p.Kind = kindOfferName
	}
	if custom := r.Dims.Custom(); len(custom) > 0 {
		p.Custom = make(map[string]string, len(custom))
		for _, c := range custom {
			p.Custom[string(c.Dim)] = c.Value
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		// Only strings and ints: Marshal cannot fail.
		panic(fmt.Sprintf("encode payload: %v", err))
	}
	return b
}

// Answer is one recent survey answer as feeds show it: its payload and its
// effective time.
type Answer struct {
	Payload
	At time.Time `json:"at"`
}
