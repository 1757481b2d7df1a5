package importer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// summary writes what the import read and what the server did with it.
func (im *importer) summary() {
	w := im.opts.Out
	elapsed := im.opts.Now().Sub(im.began)
	fmt.Fprintf(w, "rows read:   %d\n", im.rows)
	if !im.opts.DryRun {
		fmt.Fprintf(w, "accepted:    %d\n", im.result.Accepted)
		fmt.Fprintf(w, "updated:     %d\n", im.result.Updated)
		fmt.Fprintf(w, "duplicates:  %d\n", im.result.Duplicates)
		if im.result.Stale > 0 {
			// Rows older (by their version) than what the server holds.
			fmt.Fprintf(w, "stale:       %d\n", im.result.Stale)
		}
	}
	fmt.Fprintf(w, "invalid:     %d\n", im.invalid)
	for _, p := range im.problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if im.more > 0 {
		fmt.Fprintf(w, "  … and %d more problems\n", im.more)
	}
	phases := ""
	if im.validated > 0 && im.imported > 0 {
		phases = fmt.Sprintf(" (validating %s, importing %s)", round(im.validated), round(im.imported))
	}
	fmt.Fprintf(w, "elapsed:     %s%s\n", round(elapsed), phases)
	fmt.Fprintf(w, "rate:        %.0f rows/s\n", float64(im.rows)/max(elapsed.Seconds(), 1e-9))
}

// outcome is the last line of a finished import, in the server's own terms:
// a re-run that found only rows the server already held says so instead of
// claiming to have imported them.
func (im *importer) outcome() string {
	r := im.result
	counts := fmt.Sprintf("%d new, %d updated, %d already there", r.Accepted, r.Updated, r.Duplicates)
	if r.Stale > 0 {
		counts += fmt.Sprintf(", %d older than the version stored", r.Stale)
	}
	line := fmt.Sprintf("imported %d rows: %s", im.sent, counts)
	if r.Accepted+r.Updated == 0 && r.Duplicates+r.Stale > 0 {
		line = fmt.Sprintf("nothing new: the server already had all %d rows (%s)", im.sent, counts)
	}
	if im.invalid > 0 {
		line += fmt.Sprintf("; skipped %d invalid rows", im.invalid)
	}
	return line
}

// fail reports an error that stopped the import, after what was done, and
// returns it.
func (im *importer) fail(err error) error {
	shown := err
	if errors.Is(err, context.Canceled) {
		shown = errors.New("interrupted")
	}
	fmt.Fprintf(im.con, "import: %v\n", shown)
	if im.rows > 0 {
		im.summary()
	}
	if im.sent > 0 {
		fmt.Fprintf(im.opts.Out, "import failed after sending %d rows; the ids make it safe to run the same import again\n", im.sent)
	} else {
		fmt.Fprintln(im.opts.Out, "import failed; nothing was imported")
	}
	return err
}

// round keeps a duration's meaningful digits.
func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
