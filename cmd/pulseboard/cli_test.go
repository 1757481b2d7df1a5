package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
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

// TestDefaultWindowSaysSo: a query without window= is for the last hour,
// and the reply's label says that was the default.
func TestDefaultWindowSaysSo(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	c := client{t: t, base: "http://" + start(t, clock).Addr()}
	r := c.get("/api/v1/nps")
	if r.status != 200 || r.body["window"] != "1h" || !strings.Contains(fmt.Sprint(r.body["label"]), "the default window") {
		t.Errorf("without window: %d %s", r.status, r.raw)
	}
	if r := c.get("/api/v1/nps?window=1h"); strings.Contains(fmt.Sprint(r.body["label"]), "default") {
		t.Errorf("with window=1h the label still says default: %s", r.raw)
	}
}

// TestWeekStartWindow: --week-start reaches the calendar the API uses.
func TestWeekStartWindow(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)) // Thursday 10:00 in New York
	c := client{t: t, base: "http://" + start(t, clock, "--week-start", "Sunday").Addr()}
	r := c.get("/api/v1/nps?window=this_week")
	if r.status != 200 || r.body["label"] != "this week since Sun" || r.body["from"] != "2026-11-29T05:00:00Z" {
		t.Errorf("this_week from Sunday: %d %s", r.status, r.raw)
	}
}
