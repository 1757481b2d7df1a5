package store

import (
	"fmt"
	"strconv"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/nps"
)

// Tally is everything a bucket counts for one group: the NPS scores, the
// CSAT answers, the surveys offered and how many of those were answered.
// An answered offer counts where the offer was made (its time and its
// groups), not where the answer came in, so a response rate over a window
// is the share of that window's offers that were answered, however late.
type Tally struct {
	NPS      nps.Distribution
	CSAT     csat.Distribution
	Offered  int64
	Answered int64
}

// Add returns the pooled tally of t and o.
func (t Tally) Add(o Tally) Tally {
	t.NPS = t.NPS.Add(o.NPS)
	t.CSAT = t.CSAT.Add(o.CSAT)
	t.Offered += o.Offered
	t.Answered += o.Answered
	return t
}

// Empty reports whether the tally counts nothing.
func (t Tally) Empty() bool { return t == Tally{} }

// A cell is one counter of a group in a bucket, named as the Redis
// engine's hash field suffix ("group:cell") and in an entry's cell list:
// "0".."10" an NPS score (the only cells before CSAT and offers existed),
// "c1".."c5" a CSAT score, "o" an offer, "a" an offer answered.
const (
	cellOffered  = "o"
	cellAnswered = "a"
	cellCSAT     = 'c'
)

// AddCell adds n to the counter a cell names.
func (t *Tally) AddCell(cell string, n int64) error {
	switch {
	case cell == cellOffered:
		t.Offered += n
	case cell == cellAnswered:
		t.Answered += n
	case len(cell) == 2 && cell[0] == cellCSAT && csat.Valid(int(cell[1]-'0')):
		t.CSAT[cell[1]-'1'] += n
	default:
		s, err := strconv.Atoi(cell)
		if err != nil || s < nps.MinScore || s > nps.MaxScore {
			return fmt.Errorf("unknown counter %q", cell)
		}
		t.NPS[s] += n
	}
	return nil
}

// apply adds an entry's cells times sign; it is the in-memory twin of
// record.lua's add(), without the strings.
func (t *Tally) apply(e Entry, sign int64) {
	if e.Offer {
		t.Offered += sign
		if e.Answered {
			t.Answered += sign
		}
		return
	}
	if e.HasScore() {
		t.NPS[e.Score] += sign
	}
	if e.CSAT != 0 {
		t.CSAT[e.CSAT-1] += sign
	}
}
