package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/config"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// readmeCommand is a shell command from a README code block and what the
// comment under it promises: "# → 202 {...}" (an HTTP status and a part of
// the body) or "# → exit 0 text" (an exit status and a part of the output).
type readmeCommand struct {
	shell  string
	status string
	body   string
}

var expectLine = regexp.MustCompile(`^# → (\d{3}|exit \d+)\s*(.*)$`)

// curlStatus is how every README curl shows its HTTP status, after the body,
// so a reader sees what the comment under it promises.
const curlStatus = `-w '\n%{http_code}\n'`

func readmeCommands(t *testing.T) []readmeCommand {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeCommand
	var cur []string
	inBlock := false
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "```sh"):
			inBlock = true
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			inBlock, cur = false, nil
		case !inBlock:
		case expectLine.MatchString(strings.TrimSpace(line)):
			m := expectLine.FindStringSubmatch(strings.TrimSpace(line))
			out = append(out, readmeCommand{shell: strings.Join(cur, "\n"), status: m[1], body: m[2]})
			cur = nil
		case strings.HasPrefix(strings.TrimSpace(line), "curl") || strings.HasPrefix(strings.TrimSpace(line), "printf") ||
			strings.HasPrefix(strings.TrimSpace(line), "go run") || len(cur) > 0:
			cur = append(cur, strings.TrimSpace(line))
		}
	}
	return out
}

// TestReadmeCurls runs every curl of the README, as written, against the
// real server with the token `make run` sets, in order, and checks the
// status and body the README promises.
func TestReadmeCurls(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to check the README's examples")
	}
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	// The settings `make run` gives.
	m := start(t, clock, "--ingest-tokens", "demo-ingest-token", "--admin-tokens", "demo-admin-token", "--viewer-tokens", "demo:demo-viewer-token",
		"--webhook-secret", "demo-webhook-secret", "--webhooks", "../../config/webhooks.example.yaml")
	dir := t.TempDir() // the README writes its example files under $TMPDIR
	// `go run ./cmd/pulseboard` is this program, built once.
	bin := dir + "/pulseboard"
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build pulseboard: %v\n%s", err, out)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t)
	if len(cmds) < 15 {
		t.Fatalf("found only %d README commands with an expected status", len(cmds))
	}
	for _, c := range cmds {
		shell := strings.ReplaceAll(c.shell, "http://localhost:8080", "http://"+m.Addr())
		shell = strings.ReplaceAll(shell, "go run ./cmd/pulseboard", bin)
		// Other programs of the module (the Go client's example) run from
		// its root.
		shell = strings.ReplaceAll(shell, "go run ./", "cd "+root+" && go run ./")
		if strings.Contains(shell, bin+" import") {
			shell += " --server http://" + m.Addr() // the import's default is localhost:8080
		}
		for _, line := range strings.Split(c.shell, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, "| "), "curl") && !strings.Contains(line, curlStatus) {
				t.Errorf("a README curl does not show its status with %s:\n%s", curlStatus, line)
			}
		}
		cmd := exec.Command("bash", "-c", "set -o pipefail; "+shell)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TMPDIR="+dir)
		out, err := cmd.Output()
		if code, ok := strings.CutPrefix(c.status, "exit "); ok {
			got := "0"
			if exit, isExit := err.(*exec.ExitError); isExit {
				got = strconv.Itoa(exit.ExitCode())
			} else if err != nil {
				t.Errorf("README command failed: %v\n%s", err, c.shell)
				continue
			}
			if got != code || !strings.Contains(string(out), c.body) {
				t.Errorf("README command\n%s\nexited %s with\n%s\nREADME says exit %s %s", c.shell, got, out, code, c.body)
			}
			continue
		}
		if err != nil {
			t.Errorf("README command failed: %v\n%s", err, c.shell)
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		status := lines[len(lines)-1]
		body := strings.Join(lines[:len(lines)-1], "\n")
		if status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("README command\n%s\ngave %s %s; README says %s %s", c.shell, status, body, c.status, c.body)
		}
	}
}

// TestReadmeDocumentsEverySetting keeps the configuration table in step
// with the settings the program has.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range config.Options() {
		if !strings.Contains(string(raw), "`"+o.Env+"`") {
			t.Errorf("README does not document %s", o.Env)
		}
	}
	for _, cmd := range []string{"make run", "make test"} {
		if !strings.Contains(string(raw), cmd) {
			t.Errorf("README lacks %q", cmd)
		}
	}
}
