package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// server is a Pulseboard process this tool started, so it can read the
// process's memory and CPU from /proc.
type server struct {
	cmd  *exec.Cmd
	addr string
	// exited, when set, is closed once cmd.Wait has returned: whoever
	// started the process already waits for it.
	exited chan struct{}
}

// probeClient reads the server's status pages without keeping connections
// alive: an idle kept-alive connection holds a goroutine and a descriptor
// in the server, which would count as a leak in the before/after figures.
var probeClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

// spawn starts the server binary on a free loopback port.
func spawn(bin string, args []string, env []string) (*server, error) {
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--config", ""}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return start(cmd)
}

// spawnBareHub starts this binary's bare hub, fed by the server at base in
// the screens' protocol version.
func spawnBareHub(base string, boards, protocol int) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary to run its bare hub: %w", err)
	}
	return start(exec.Command(self, bareHubCommand, "-upstream", base, "-boards", strconv.Itoa(boards), "-protocol", strconv.Itoa(protocol)))
}

// start runs cmd and waits for it to announce its address on stderr.
func start(cmd *exec.Cmd) (*server, error) {
	bin := cmd.Path
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd}
	sc := bufio.NewScanner(stderr)
	deadline := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
			s.addr = m[1]
			break
		}
	}
	if s.addr == "" {
		return nil, fmt.Errorf("server did not start")
	}
	go func() { // keep draining its log so it never blocks on a full pipe
		for sc.Scan() {
		}
	}()
	return s, nil
}

// waitReady polls /readyz.
func waitReady(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := probeClient.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s/readyz did not answer 200 within 30 s", base)
}

func (s *server) stop(ctx context.Context) {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := s.exited
	if done == nil {
		done = make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
	}
	select {
	case <-done:
	case <-ctx.Done():
		_ = s.cmd.Process.Kill()
	}
}

// rss is the process's resident memory in bytes (VmRSS).
func (s *server) rss() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpu is the process's user+system CPU time so far.
func (s *server) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after ")".
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// fds counts the process's open file descriptors.
func (s *server) fds() int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return len(entries)
}

// waitBoard polls a board's JSON until it is served (200): the server's
// aggregator has warmed up.
func waitBoard(base, name string) error {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		res, err := probeClient.Get(base + "/api/v1/boards/" + name)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("board %s was not served within 10 minutes", name)
}

// goroutines reads go_goroutines from the server's /metrics (-1 if it
// cannot).
func goroutines(base string) int { return int(metric(base, "go_goroutines")) }

// metric reads one unlabelled sample from the server's /metrics (-1 if it
// cannot).
// metrics reads several of the server's metrics in one request; a
// metric it does not find is -1.
func metrics(base string, names ...string) []float64 {
	out := make([]float64, len(names))
	for i := range out {
		out[i] = -1
	}
	res, err := probeClient.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		for i, name := range names {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					out[i] = n
				}
			}
		}
	}
	return out
}

func metric(base, name string) float64 {
	res, err := probeClient.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
