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
	t.add(&o)
	return t
}

// add adds o to t in place.
func (t *Tally) add(o *Tally) {
	for i := range t.NPS {
		t.NPS[i] += o.NPS[i]
	}
	for i := range t.CSAT {
		t.CSAT[i] += o.CSAT[i]
	}
	t.Offered += o.Offered
	t.Answered += o.Answered
}

// Empty reports whether the tally counts nothing.
func (t Tally) Empty() bool { return t == Tally{} }

// A cell is one counter of a group in a bucket, named as the Redis
// engine's hash field suffix ("group:cell") and in an entry's cell list:
// "0".."10" an NPS score (the only cells before CSAT and offers existed),
// "c1".."c5" a CSAT score, "o" an offer, "a" an offer answered. In memory a
// cell is its index: 0..10 the NPS scores, then CSAT 1..5, offered,
// answered.
const (
	cellOffered  = "o"
	cellAnswered = "a"
	cellCSAT     = 'c'

	firstCSATCell = nps.MaxScore + 1
	offeredCell   = firstCSATCell + csat.MaxScore
	answeredCell  = offeredCell + 1
	numCells      = answeredCell + 1
)

// AddCell adds n to the counter a cell names.
func (t *Tally) AddCell(cell string, n int64) error {
	i, err := cellIndex(cell)
	if err != nil {
		return err
	}
	t.addCell(i, n)
	return nil
}

// cellName writes a cell index's name, as cellIndex reads it.
func cellName(i uint8) string {
	switch {
	case i < firstCSATCell:
		return strconv.Itoa(int(i))
	case i < offeredCell:
		return string(cellCSAT) + strconv.Itoa(int(i-firstCSATCell)+1)
	case i == offeredCell:
		return cellOffered
	}
	return cellAnswered
}

// cellIndex reads a cell's name ("7", "c4", "o", "a") as its index.
func cellIndex(cell string) (uint8, error) {
	switch {
	case cell == cellOffered:
		return offeredCell, nil
	case cell == cellAnswered:
		return answeredCell, nil
	case len(cell) == 2 && cell[0] == cellCSAT && csat.Valid(int(cell[1]-'0')):
		return firstCSATCell + cell[1] - '1', nil
	}
	s, err := strconv.Atoi(cell)
	if err != nil || s < nps.MinScore || s > nps.MaxScore {
		return 0, fmt.Errorf("unknown counter %q", cell)
	}
	return uint8(s), nil
}

// counter returns the counter of a cell index.
func (t *Tally) counter(cell uint8) *int64 {
	switch {
	case cell < firstCSATCell:
		return &t.NPS[cell]
	case cell < offeredCell:
		return &t.CSAT[cell-firstCSATCell]
	case cell == offeredCell:
		return &t.Offered
	default:
		return &t.Answered
	}
}

// addCell adds n to the counter of a cell index.
func (t *Tally) addCell(cell uint8, n int64) { *t.counter(cell) += n }

// cells returns the cell indexes an entry adds to: one or two.
func (e Entry) cells() (c [2]uint8, n int) {
	if e.Offer {
		c[0], n = offeredCell, 1
		if e.Answered {
			c[1], n = answeredCell, 2
		}
		return c, n
	}
	if e.HasScore() {
		c[n], n = uint8(e.Score), n+1
	}
	if e.CSAT != 0 {
		c[n], n = uint8(firstCSATCell+e.CSAT-1), n+1
	}
	return c, n
}

// smallCells is how many counters a group keeps inline.
const smallCells = 3

// counts is one group's Tally in one bucket, kept small: most groups of a
// minute bucket (an agent, a team on a channel) hold an answer or two, and
// minute buckets are kept a day, so they are most of an aggregator's
// memory. Up to three counters are inline (24 bytes where a Tally is 144);
// a group that needs more, or a count beyond int32, moves to a full Tally.
type counts struct {
	cell [smallCells]uint8 // cell index + 1; 0 is a free slot
	n    [smallCells]int32
	full *Tally
}

// add adds n to a cell's counter.
func (c *counts) add(cell uint8, n int64) {
	if c.full != nil {
		c.full.addCell(cell, n)
		return
	}
	for i, have := range c.cell {
		switch have {
		case cell + 1:
			if v := int64(c.n[i]) + n; v == int64(int32(v)) {
				c.n[i] = int32(v)
				return
			}
		case 0:
			if n == int64(int32(n)) {
				c.cell[i], c.n[i] = cell+1, int32(n)
				return
			}
		default:
			continue
		}
		break
	}
	t := c.tally()
	t.addCell(cell, n)
	*c = counts{full: &t}
}

// tally returns the counts as a Tally.
func (c counts) tally() Tally {
	var t Tally
	c.addTo(&t)
	return t
}

// addTo adds the counts to t (a query's sum: no Tally built per group).
func (c counts) addTo(t *Tally) {
	if c.full != nil {
		t.add(c.full)
		return
	}
	for i, cell := range c.cell {
		if cell != 0 {
			t.addCell(cell-1, int64(c.n[i]))
		}
	}
}

// countsOf packs a Tally (a snapshot's bucket) as counts.
func countsOf(t Tally) counts {
	var c counts
	for cell := range uint8(numCells) {
		if n := *t.counter(cell); n != 0 {
			c.add(cell, n)
		}
	}
	return c
}
