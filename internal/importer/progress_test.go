package importer

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	now := testNow
	clock := func() time.Time { return now }
	var out bytes.Buffer
	p := &progress{con: &console{w: &out}, phase: "importing", size: 1000, now: clock, began: now}
	now = now.Add(10 * time.Second)
	p.update(250, 50)
	if got, want := p.line(false), "importing [=====>                  ]  25.0%  50 rows  5 rows/s  ETA 30s"; got != want {
		t.Errorf("line\n%q\nwant\n%q", got, want)
	}
	p.update(1000, 200)
	if got, want := p.line(true), "importing [========================] 100.0%  200 rows  20 rows/s  in 10s"; got != want {
		t.Errorf("final line\n%q\nwant\n%q", got, want)
	}
	// Standard input read once has no size: no bar, no ETA.
	p.size = 0
	if got, want := p.line(false), "importing  200 rows  20 rows/s"; got != want {
		t.Errorf("line without size\n%q\nwant\n%q", got, want)
	}
}

// TestConsoleTerminal: on a terminal the progress line is redrawn in
// place, and a message first clears it; elsewhere each is a line.
func TestConsoleTerminal(t *testing.T) {
	var out bytes.Buffer
	c := &console{w: &out, tty: true}
	c.status("a", false)
	c.status("b", false)
	fmt.Fprintln(c, "message")
	c.status("c", true)
	if got, want := out.String(), "\ra\x1b[K\rb\x1b[K\r\x1b[Kmessage\n\rc\x1b[K\n"; got != want {
		t.Errorf("terminal\n%q\nwant\n%q", got, want)
	}
	out.Reset()
	c = newConsole(&out)
	c.status("a", false)
	fmt.Fprintln(c, "message")
	c.status("b", true)
	if got, want := out.String(), "a\nmessage\nb\n"; got != want {
		t.Errorf("not a terminal\n%q\nwant\n%q", got, want)
	}
}
