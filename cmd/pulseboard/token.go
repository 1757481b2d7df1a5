package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
)

// runToken makes a new random token and prints it with its hash: the token
// goes to the producer, the admin or the screen; the hash goes into the
// configuration, which then holds nothing that opens anything.
//
//	pulseboard token                              an ingest or admin token
//	pulseboard token --board floor --screen lobby a display token for one screen
//	pulseboard token --viewer dana                a viewer token for one person
func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pulseboard token", flag.ContinueOnError)
	// Help goes to stdout with exit 0, a mistake to stderr with exit 2; the
	// flag package would print both to one writer.
	fs.SetOutput(io.Discard)
	boardName := fs.String("board", "", "make a display token for this board (prints its boards.yaml entry)")
	screen := fs.String("screen", "", "the screen's name in boards.yaml, like lobby-tv (with --board)")
	viewer := fs.String("viewer", "", "make a viewer token for this person (prints its viewer_tokens entry)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: pulseboard token [--board NAME --screen SCREEN | --viewer NAME]")
		fmt.Fprintln(fs.Output(), "Prints a random token and its sha256 hash: an ingest or admin token, with --board and --screen a display token for one screen, or with --viewer a viewer's token.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		fmt.Fprintf(stderr, "pulseboard token: %v\n", err)
		fs.SetOutput(stderr)
		fs.Usage()
		return 2
	}
	if (*boardName == "") != (*screen == "") || (*viewer != "" && *boardName != "") || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: pulseboard token [--board NAME --screen SCREEN | --viewer NAME]")
		return 2
	}
	if *viewer != "" && !auth.ValidUserName(*viewer) {
		fmt.Fprintf(stderr, "pulseboard token: --viewer %q: want %s\n", *viewer, auth.UserNameRule)
		return 2
	}
	if *screen != "" && !board.ValidName(*screen) {
		fmt.Fprintf(stderr, "pulseboard token: --screen %q: want 1 to 64 of a-z 0-9 _ -\n", *screen)
		return 2
	}
	tok, err := auth.Generate()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	hash := auth.HashOf(tok).String()
	fmt.Fprintf(stdout, "token: %s\nhash:  %s\n", tok, hash)
	if *boardName != "" {
		// --board team/billing: a template's screens are paired with the
		// template, and open every one of its boards.
		def, note := *boardName, ""
		if tpl, v, ok := board.SplitName(def); ok {
			def, note = tpl, fmt.Sprintf("   # every board of %s; add value: %q for %s only", tpl, v, *boardName)
		}
		fmt.Fprintf(stdout, "\nUnder board %s in boards.yaml:\n  access:\n    screens:\n      - {name: %s, token_sha256: %s}%s\n", def, *screen, hash, note)
		fmt.Fprintf(stdout, "\nThen open this once on the screen:\n  %s?token=%s\n", board.URLPath(*boardName), tok)
		return 0
	}
	if *viewer != "" {
		fmt.Fprintf(stdout, "\nAdd to PULSEBOARD_VIEWER_TOKENS (comma-separated) or viewer_tokens:\n  %s:%s\n", *viewer, hash)
		fmt.Fprintln(stdout, "\nHand out the token: it signs in at /signin, or goes in Authorization: Bearer.")
		return 0
	}
	fmt.Fprintln(stdout, "\nConfigure the hash (PULSEBOARD_INGEST_TOKENS or PULSEBOARD_ADMIN_TOKENS accept it); hand out the token.")
	return 0
}
