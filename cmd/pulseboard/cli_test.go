package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelpNamesEveryCommand: `pulseboard --help` (and `help`) lists every
// subcommand, and every --help prints to stdout and exits 0, as a newcomer
// trying them one after another expects.
func TestHelpNamesEveryCommand(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"import", "--help"}, {"token", "--help"}, {"healthcheck", "--help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, env, &stdout, &stderr); code != 0 || stdout.Len() == 0 || stderr.Len() != 0 {
			t.Errorf("pulseboard %s: exit %d, %d bytes of help on stdout, stderr %q", strings.Join(args, " "), code, stdout.Len(), stderr.String())
		}
		if args[0] == "--help" || args[0] == "help" {
			for _, cmd := range []string{"pulseboard import", "pulseboard token", "pulseboard healthcheck", "PULSEBOARD_REDIS_URL"} {
				if !strings.Contains(stdout.String(), cmd) {
					t.Errorf("pulseboard %s does not mention %q", args[0], cmd)
				}
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"token", "--nope"}, env, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-nope") {
		t.Errorf("token --nope: exit %d, stderr %q", code, stderr.String())
	}
}
