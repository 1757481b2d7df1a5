package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/config"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// Docker cannot run here, so these tests check the deployment files
// against the program instead: probe paths answer on the real server, ports
// agree, every environment variable is a real setting with a valid value,
// images are pinned and run as non-root, and shutdown fits the grace
// periods.

const deployDir = "../../config/deploy"

// dockerfile is the repository's Dockerfile as instructions: keyword and
// arguments, continuation lines joined.
func dockerfile(t *testing.T) [][2]string {
	t.Helper()
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kw, args, _ := strings.Cut(line, " ")
		out = append(out, [2]string{strings.ToUpper(kw), strings.TrimSpace(args)})
	}
	return out
}

// imagePinned: a tag that names a version (or a digest), never latest.
func imagePinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	i := strings.LastIndexByte(image, ':')
	return i > strings.LastIndexByte(image, '/') && image[i+1:] != "latest" && image[i+1:] != ""
}

// nonRootUser accepts a numeric uid other than 0, as Kubernetes'
// runAsNonRoot requires of an image.
func nonRootUser(user string) bool {
	uid, _, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	return err == nil && n > 0
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

// TestDockerfile checks the image's essentials: a multi-stage build of a
// static, trimmed binary with the Go of go.mod, a distroless non-root final
// stage, the exposed port the server listens on, and a HEALTHCHECK that
// runs the binary's own probe (which the test runs against a real server).
func TestDockerfile(t *testing.T) {
	var froms, builds []string
	got := map[string]string{}
	for _, ins := range dockerfile(t) {
		switch ins[0] {
		case "FROM":
			froms = append(froms, ins[1])
		case "RUN":
			if strings.Contains(ins[1], "go build") {
				builds = append(builds, ins[1])
			}
		case "COPY":
			if f := strings.Fields(ins[1]); !strings.HasPrefix(f[0], "--") && len(f) == 2 && f[0] != "." {
				if _, err := os.Stat(filepath.Join("../..", f[0])); err != nil {
					t.Errorf("COPY %s: %v", f[0], err)
				}
			}
		}
		got[ins[0]] = ins[1] // the last of each
	}
	if len(froms) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(froms))
	}
	for _, f := range froms {
		if !imagePinned(strings.Fields(f)[0]) {
			t.Errorf("FROM %s: pin a version", f)
		}
	}
	mod, _ := os.ReadFile("../../go.mod")
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil || !strings.HasPrefix(froms[0], "golang:"+string(goVersion[1])) {
		t.Errorf("build stage %q does not use the Go of go.mod (%s)", froms[0], goVersion)
	}
	if len(builds) != 1 {
		t.Fatalf("%d go build steps, want 1", len(builds))
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/pulseboard"} {
		if !strings.Contains(builds[0], want) {
			t.Errorf("go build step lacks %s: %s", want, builds[0])
		}
	}
	if final := froms[len(froms)-1]; !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.Contains(final, "nonroot") {
		t.Errorf("final stage %q: want distroless static, nonroot", final)
	}
	if !nonRootUser(got["USER"]) {
		t.Errorf("USER %q: want a numeric non-root uid", got["USER"])
	}
	addr, ok := strings.CutPrefix(got["ENV"], "PULSEBOARD_ADDR=")
	if !ok || got["EXPOSE"] != portOf(t, addr) {
		t.Errorf("EXPOSE %q does not match ENV %q", got["EXPOSE"], got["ENV"])
	}
	if got["ENTRYPOINT"] != `["/pulseboard"]` {
		t.Errorf("ENTRYPOINT %s", got["ENTRYPOINT"])
	}
	hc := got["HEALTHCHECK"]
	cmd := regexp.MustCompile(`CMD \["/pulseboard", "healthcheck"\]$`)
	if !cmd.MatchString(hc) {
		t.Fatalf("HEALTHCHECK %q: want CMD [\"/pulseboard\", \"healthcheck\"]", hc)
	}
	// The probe the image runs answers 0 against a live server on the
	// image's port setting, and 1 when nothing listens there.
	m, _ := startNow(t)
	env := func(k string) string {
		if k == "PULSEBOARD_ADDR" {
			return ":" + portOf(t, m.Addr())
		}
		return ""
	}
	var stderr bytes.Buffer
	if code := run([]string{"healthcheck", "--config", ""}, env, io.Discard, &stderr); code != 0 {
		t.Errorf("healthcheck against a live server: exit %d: %s", code, stderr.String())
	}
	if code := run([]string{"healthcheck", "--config", "", "--addr", "127.0.0.1:1"}, env, io.Discard, io.Discard); code == 0 {
		t.Error("healthcheck passed with nothing listening")
	}
}

// settings maps every environment variable the program reads to its
// setting.
func settings() map[string]config.OptionDoc {
	out := map[string]config.OptionDoc{}
	for _, o := range config.Options() {
		out[o.Env] = o
	}
	return out
}

// checkEnv fails the test for an unknown variable, and loads the values
// through the real configuration, so a bad value fails here, not at start.
func checkEnv(t *testing.T, where string, env map[string]string) *config.Config {
	t.Helper()
	known := settings()
	for k := range env {
		if _, ok := known[k]; !ok {
			t.Errorf("%s: %s is not a setting", where, k)
		}
	}
	cfg, err := config.Load([]string{"--config", ""}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return cfg
}

// composeVar expands ${NAME:-default} and ${NAME:?message} the way compose
// does, with test values for the required ones.
func composeVar(s string) string {
	return regexp.MustCompile(`\$\{(\w+):([-?])([^}]*)\}`).ReplaceAllStringFunc(s, func(m string) string {
		p := regexp.MustCompile(`\$\{(\w+):([-?])([^}]*)\}`).FindStringSubmatch(m)
		if p[2] == "-" {
			return p[3]
		}
		return token
	})
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       map[string]string `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		User        string            `yaml:"user"`
		StopSignal  string            `yaml:"stop_signal"`
		StopGrace   string            `yaml:"stop_grace_period"`
		Healthcheck map[string]any    `yaml:"healthcheck"`
		DependsOn   any               `yaml:"depends_on"`
	} `yaml:"services"`
}

// TestComposeFile checks config/deploy/compose.yaml and its haproxy.cfg:
// Redis, three nodes built from the Dockerfile and a balancer; every
// setting real and valid; the nodes on the compose Redis, non-root, with a
// stop grace period longer than the server's shutdown bound; the balancer
// routing to each node's port, checking /readyz, keeping WebSocket tunnels
// open.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"redis", "node1", "node2", "node3", "lb"} {
		if _, ok := f.Services[name]; !ok {
			t.Fatalf("compose.yaml has no service %s", name)
		}
	}
	for name, s := range f.Services {
		if !imagePinned(s.Image) {
			t.Errorf("service %s: image %q is not pinned", name, s.Image)
		}
	}
	var nodePort string
	for _, name := range []string{"node1", "node2", "node3"} {
		s := f.Services[name]
		if s.Build["context"] != "../.." || s.Build["dockerfile"] != "Dockerfile" {
			t.Errorf("%s: build %v, want the repository's Dockerfile", name, s.Build)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = composeVar(v)
		}
		cfg := checkEnv(t, "compose "+name, env)
		if cfg.RedisURL != "redis://redis:6379/0" {
			t.Errorf("%s: PULSEBOARD_REDIS_URL %q, want the compose Redis", name, cfg.RedisURL)
		}
		if !nonRootUser(s.User) {
			t.Errorf("%s: user %q", name, s.User)
		}
		grace, err := time.ParseDuration(s.StopGrace)
		if err != nil || grace <= cfg.ShutdownTimeout {
			t.Errorf("%s: stop_grace_period %q must exceed the shutdown timeout %s", name, s.StopGrace, cfg.ShutdownTimeout)
		}
		if s.StopSignal != "SIGTERM" {
			t.Errorf("%s: stop_signal %q", name, s.StopSignal)
		}
		nodePort = portOf(t, cfg.Addr) // the image's PULSEBOARD_ADDR default
	}
	if f.Services["redis"].Healthcheck == nil {
		t.Error("redis has no healthcheck: the nodes wait for it")
	}

	lb := f.Services["lb"]
	if len(lb.Ports) != 1 {
		t.Fatalf("lb ports %v", lb.Ports)
	}
	_, lbPort, _ := strings.Cut(lb.Ports[0], ":")
	lbPort = strings.Trim(lbPort, `"`)
	cfgFile := ""
	for _, v := range lb.Volumes {
		if src, dst, ok := strings.Cut(v, ":"); ok && strings.HasSuffix(dst, "haproxy.cfg:ro") {
			cfgFile = src
		}
	}
	hap, err := os.ReadFile(filepath.Join(deployDir, cfgFile))
	if err != nil {
		t.Fatalf("lb config %q: %v", cfgFile, err)
	}
	for _, want := range []string{
		"bind :" + lbPort,
		"balance roundrobin",
		"http-check send meth GET uri /readyz",
		"timeout tunnel",
		"server node1 node1:" + nodePort,
		"server node2 node2:" + nodePort,
		"server node3 node3:" + nodePort,
	} {
		if !bytes.Contains(hap, []byte(want)) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	// HAProxy's own check, where it is installed (CI installs it). The
	// compose service names do not resolve here, which it only warns about.
	if bin, err := exec.LookPath("haproxy"); err == nil {
		if out, err := exec.Command(bin, "-c", "-f", filepath.Join(deployDir, cfgFile)).CombinedOutput(); err != nil {
			t.Errorf("haproxy -c: %v\n%s", err, out)
		}
	} else {
		t.Log("haproxy not on PATH: its own syntax check did not run")
	}
	checkRoutes(t, "/readyz")
}

// checkRoutes asks a real server (memory engine) for each path: a probe
// that names a missing route would fail every pod.
func checkRoutes(t *testing.T, paths ...string) {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	c := client{t: t, base: "http://" + start(t, clock).Addr()}
	for _, p := range paths {
		if r := c.get(p); r.status != 200 {
			t.Errorf("GET %s: %d, want 200", p, r.status)
		}
	}
}

type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		// Deployment
		Replicas int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Strategy struct {
			RollingUpdate struct {
				MaxUnavailable int `yaml:"maxUnavailable"`
			} `yaml:"rollingUpdate"`
		} `yaml:"strategy"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// Service
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		// PodDisruptionBudget (and the Service's selector, flat)
		MaxUnavailable *int `yaml:"maxUnavailable"`
	} `yaml:"spec"`
	flatSelector map[string]string
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
		RunAsUser    int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []struct {
		Name  string `yaml:"name"`
		Image string `yaml:"image"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name      string         `yaml:"name"`
			Value     *string        `yaml:"value"`
			ValueFrom map[string]any `yaml:"valueFrom"`
		} `yaml:"env"`
		ReadinessProbe probe `yaml:"readinessProbe"`
		LivenessProbe  probe `yaml:"livenessProbe"`
		Lifecycle      struct {
			PreStop struct {
				Sleep struct {
					Seconds int `yaml:"seconds"`
				} `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
		Resources struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		} `yaml:"securityContext"`
	} `yaml:"containers"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// k8sObjects reads every document of every manifest.
func k8sObjects(t *testing.T) map[string]k8sObject {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no manifests in config/deploy/k8s")
	}
	out := map[string]k8sObject{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var node yaml.Node
			if err := dec.Decode(&node); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var o k8sObject
			if err := node.Decode(&o); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var sel struct {
				Spec struct {
					Selector map[string]any `yaml:"selector"`
				} `yaml:"spec"`
			}
			_ = node.Decode(&sel)
			o.flatSelector = map[string]string{}
			for k, v := range sel.Spec.Selector {
				if s, ok := v.(string); ok {
					o.flatSelector[k] = s
				}
			}
			if _, dup := out[o.Kind]; dup {
				t.Fatalf("%s: a second %s", file, o.Kind)
			}
			out[o.Kind] = o
		}
	}
	return out
}

// TestKubernetesManifests checks config/deploy/k8s: a Deployment whose
// probes are real routes (readiness /readyz, liveness /healthz) on the
// port the server listens on, every env a real setting with a valid value,
// non-root, a pinned image, resource requests, a grace period that covers
// preStop plus the shutdown bound, rolling one at a time; a Service and a
// PodDisruptionBudget that select the Deployment's pods.
func TestKubernetesManifests(t *testing.T) {
	objs := k8sObjects(t)
	d, ok := objs["Deployment"]
	if !ok {
		t.Fatal("no Deployment")
	}
	labels := d.Spec.Template.Metadata.Labels
	if len(labels) == 0 || !mapsContain(labels, d.Spec.Selector.MatchLabels) {
		t.Errorf("Deployment selector %v does not match its pods %v", d.Spec.Selector.MatchLabels, labels)
	}
	if d.Spec.Replicas < 2 || d.Spec.Strategy.RollingUpdate.MaxUnavailable != 0 {
		t.Errorf("replicas %d, maxUnavailable %d: want several nodes, rolled one at a time with none missing",
			d.Spec.Replicas, d.Spec.Strategy.RollingUpdate.MaxUnavailable)
	}
	pod := d.Spec.Template.Spec
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser <= 0 {
		t.Errorf("pod security context %+v: want non-root", pod.SecurityContext)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !imagePinned(c.Image) {
		t.Errorf("image %q is not pinned", c.Image)
	}
	env := map[string]string{}
	runtimeEnv := map[string]string{} // the Go runtime's, not the program's settings
	secrets := map[string]string{"PULSEBOARD_REDIS_URL": "redis+cluster://redis-0:6379,redis-1:6379/", "PULSEBOARD_INGEST_TOKENS": token, "PULSEBOARD_ADMIN_TOKENS": adminToken,
		"PULSEBOARD_VIEWER_TOKENS": "dana:" + viewerToken, "PULSEBOARD_SESSION_KEY": "a-session-key-of-at-least-32-chars"}
	for _, e := range c.Env {
		switch {
		case (e.Name == "GOMEMLIMIT" || e.Name == "GOGC") && e.Value != nil:
			runtimeEnv[e.Name] = *e.Value
		case e.Value != nil:
			env[e.Name] = *e.Value
		case e.ValueFrom != nil && secrets[e.Name] != "":
			env[e.Name] = secrets[e.Name]
		default:
			t.Errorf("env %s: no value, or a secret the test has no example for", e.Name)
		}
	}
	cfg := checkEnv(t, "Deployment", env)
	port := map[string]int{}
	for _, p := range c.Ports {
		port[p.Name] = p.ContainerPort
	}
	if strconv.Itoa(port["http"]) != portOf(t, cfg.Addr) {
		t.Errorf("containerPort http %d, but the server listens on %s", port["http"], cfg.Addr)
	}
	if r, l := c.ReadinessProbe.HTTPGet, c.LivenessProbe.HTTPGet; r.Path != "/readyz" || l.Path != "/healthz" || r.Port != "http" || l.Port != "http" {
		t.Errorf("probes: readiness %+v, liveness %+v; want /readyz and /healthz on port http", r, l)
	}
	checkRoutes(t, c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	if need := c.Lifecycle.PreStop.Sleep.Seconds + int(cfg.ShutdownTimeout/time.Second); pod.TerminationGracePeriodSeconds <= need {
		t.Errorf("terminationGracePeriodSeconds %d must exceed preStop %d s + shutdown %s",
			pod.TerminationGracePeriodSeconds, c.Lifecycle.PreStop.Sleep.Seconds, cfg.ShutdownTimeout)
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	if c.Resources.Limits["memory"] == "" {
		t.Error("no memory limit")
	}
	checkMemLimit(t, runtimeEnv, c.Resources.Limits["memory"])
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation || !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("container security context %+v", c.SecurityContext)
	}

	svc, ok := objs["Service"]
	if !ok || !mapsContain(labels, svc.flatSelector) || len(svc.flatSelector) == 0 {
		t.Errorf("Service selector %v does not select the pods %v", svc.flatSelector, labels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("Service ports %+v: want one, to the named port http", svc.Spec.Ports)
	}
	pdb, ok := objs["PodDisruptionBudget"]
	if !ok || !mapsContain(labels, pdb.Spec.Selector.MatchLabels) || len(pdb.Spec.Selector.MatchLabels) == 0 {
		t.Errorf("PodDisruptionBudget selector %v does not select the pods %v", pdb.Spec.Selector.MatchLabels, labels)
	}
	if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable %v, want 1", pdb.Spec.MaxUnavailable)
	}
	kinds := make([]string, 0, len(objs))
	for k := range objs {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	t.Logf("checked %v", kinds)
}

func mapsContain(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// checkMemLimit: the Go runtime's soft memory limit is set, and sits below
// the container's hard limit with room for what the runtime does not count
// (docs/OPERATIONS.md, "Memory: GOMEMLIMIT and GOGC"): between 80% and 95%
// of it. GOGC stays at its default; off would let the heap fill to the
// limit every cycle.
func checkMemLimit(t *testing.T, env map[string]string, containerLimit string) {
	t.Helper()
	if v, ok := env["GOGC"]; ok && v != "100" {
		t.Errorf("GOGC=%s: keep the default 100 and bound memory with GOMEMLIMIT", v)
	}
	soft, err := goMemLimit(env["GOMEMLIMIT"])
	if err != nil {
		t.Errorf("GOMEMLIMIT: %v", err)
		return
	}
	hard, err := k8sBytes(containerLimit)
	if err != nil {
		t.Errorf("limits.memory: %v", err)
		return
	}
	if r := float64(soft) / float64(hard); r < 0.80 || r > 0.95 {
		t.Errorf("GOMEMLIMIT %s is %.0f%% of limits.memory %s: want 80%% to 95%%", env["GOMEMLIMIT"], 100*r, containerLimit)
	}
}

// goMemLimit parses GOMEMLIMIT as the runtime does: a number of bytes
// with an optional unit B, KiB, MiB, GiB or TiB.
func goMemLimit(s string) (int64, error) {
	m := regexp.MustCompile(`^([0-9]+)(B|KiB|MiB|GiB|TiB)?$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a number of bytes with an optional unit B, KiB, MiB, GiB or TiB", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	shift := map[string]uint{"": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}[m[2]]
	return n << shift, err
}

// k8sBytes parses a Kubernetes memory quantity in the binary units the
// manifests use (Ki, Mi, Gi).
func k8sBytes(s string) (int64, error) {
	m := regexp.MustCompile(`^([0-9]+)(Ki|Mi|Gi)$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q: want a number with Ki, Mi or Gi", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n << map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30}[m[2]], err
}

// The parsers checkMemLimit judges the manifest with.
func TestMemLimitParsers(t *testing.T) {
	for in, want := range map[string]int64{"690MiB": 690 << 20, "1GiB": 1 << 30, "1000": 1000, "512KiB": 512 << 10} {
		if got, err := goMemLimit(in); err != nil || got != want {
			t.Errorf("goMemLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// "off" is valid to the runtime, but it is no limit.
	for _, bad := range []string{"", "690M", "690 MiB", "-1", "off"} {
		if _, err := goMemLimit(bad); err == nil {
			t.Errorf("goMemLimit(%q) accepted", bad)
		}
	}
	if got, err := k8sBytes("768Mi"); err != nil || got != 768<<20 {
		t.Errorf("k8sBytes(768Mi) = %d, %v", got, err)
	}
	if _, err := k8sBytes("768M"); err == nil {
		t.Error("k8sBytes accepted a decimal unit it does not convert")
	}
}
