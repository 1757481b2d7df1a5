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
	FP      string
	At      int64 // unix seconds
	Score   int
	Version uint64
	Groups  []RollupGroup
}

// RollupGroup is one group a response counts in.
type RollupGroup struct {
	Rollup string
	Group  string
}

// EntryOf computes the entry of a validated response under rollups.
func EntryOf(r Response, rollups []Rollup) Entry {
	e := Entry{FP: Fingerprint(r), At: r.At.Unix(), Score: r.Score, Version: r.Version,
		Groups: make([]RollupGroup, 0, len(rollups))} // one allocation, not one per doubling
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

// Encode writes the entry in the compact form the Redis engine stores and
// its Lua script parses: "fp;at;score;v<version>;rollup=group;...", the
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
	b.WriteString(strconv.Itoa(e.Score))
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
	score, err := strconv.Atoi(parts[2])
	if err != nil {
		return Entry{}, fmt.Errorf("decode entry %q: score: %w", s, err)
	}
	e := Entry{FP: parts[0], At: at, Score: score}
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
	write(strconv.Itoa(r.Score))
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
	return strconv.FormatUint(h.Sum64(), 36)
}

// Payload is the part of a response the change log carries for consumers
// that show individual answers (comment feeds, detractor alerts). Counting
// uses the entries, which hold the effective time.
type Payload struct {
	ID      string   `json:"id"`
	Score   int      `json:"score"`
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

// PayloadOf extracts the payload of a response, JSON-encoded.
func PayloadOf(r Response) []byte {
	p := Payload{
		ID: r.ID, Score: r.Score,
		Channel: r.Dims.Channel, Segment: r.Dims.Segment, Team: r.Dims.Team, Agent: r.Dims.Agent,
		Comment: r.Comment, Tags: r.Tags, Journey: r.Dims.Journey, Themes: r.Themes,
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
