package importer

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// console writes messages and a progress line to standard error. On a
// terminal the progress line is redrawn in place, and a message first
// clears it.
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
	now   func() time.Time
	began time.Time
	bytes atomic.Int64
	rows  atomic.Int64
	done  chan struct{}
	wg    sync.WaitGroup
}

func newProgress(con *console, phase string, size int64, now func() time.Time) *progress {
	p := &progress{con: con, phase: phase, size: size, now: now, began: now(), done: make(chan struct{})}
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

// update records how far the pass has read.
func (p *progress) update(bytes int64, rows int) {
	p.bytes.Store(bytes)
	p.rows.Store(int64(rows))
}

// stop ends the pass with its final line.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.con.status(p.line(true), true)
}

// line is the progress line: phase, a bar with the share of the file read
// and the time left when the size is known, rows and rate.
func (p *progress) line(final bool) string {
	elapsed := p.now().Sub(p.began)
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
