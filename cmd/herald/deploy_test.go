package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"herald/config"
	"herald/internal/redistest"
	"herald/queue"
	"herald/web"
)

// The files in deploy/ agree with the code they deploy: each grace period before SIGKILL
// holds the stop budget of the config it runs (worker.shutdown_timeout, default send_timeout +
// 5 s, plus 5 s of margin, and the API's own 10 s), the probes and healthchecks ask for paths
// the server answers on the port it listens on, every runtime image and unit runs as a non-root
// user, the command and the mounted config agree on its path, the environment variables they
// set are ones herald reads, and the image's build context keeps every file `go build
// ./cmd/herald` needs. A default or a route changed in code without its manifest fails here.

const deployConfigPath = "/etc/herald/herald.yaml"

func readDeploy(t *testing.T, parts ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "deploy"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// stopBudget is the longest a stop of `herald serve` with cfg takes before the process exits,
// margin excluded: the worker's shutdown timeout or the API's, whichever is longer.
func stopBudget(cfg *config.Config) time.Duration {
	d := time.Duration(cfg.Worker.ShutdownTimeout)
	if d <= 0 {
		d = time.Duration(cfg.Worker.SendTimeout) + 5*time.Second
	}
	return max(d, httpShutdownTimeout)
}

// checkGrace fails unless grace leaves the 5 s margin deploy/README.md promises after cfg's
// stop budget.
func checkGrace(t *testing.T, what string, grace time.Duration, cfg *config.Config) {
	t.Helper()
	if need := stopBudget(cfg) + 5*time.Second; grace < need {
		t.Errorf("%s: %s before SIGKILL, but a stop may take %s (shutdown_timeout + 5 s margin)", what, grace, need)
	}
}

// exampleConfig parses herald.example.yaml as the compose file and the systemd unit run it.
func exampleConfig(t *testing.T) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "herald.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(data)
	if err != nil {
		t.Fatalf("herald.example.yaml: %v", err)
	}
	return cfg
}

// envRead is every environment variable herald reads by name (config.applyEnv, the CLI), and
// the token_env names of the config text raw.
func envRead(t *testing.T, raw string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, f := range []string{filepath.Join("..", "..", "config", "config.go"), "main.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`Getenv\("([A-Z_]+)"\)`).FindAllStringSubmatch(string(src), -1) {
			names[m[1]] = true
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^[^#\n]*_env: *"?([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(raw, -1) {
		names[m[1]] = true
	}
	if len(names) < 4 {
		t.Fatalf("found only %v", names)
	}
	return names
}

// checkEnv fails for a variable herald does not read: a HERALD_CH_ one must name a channel of
// cfg.
func checkEnv(t *testing.T, what string, vars []string, cfg *config.Config, read map[string]bool) {
	t.Helper()
	for _, v := range vars {
		if rest, ok := strings.CutPrefix(v, "HERALD_CH_"); ok {
			found := false
			for _, c := range cfg.Channels {
				p := strings.TrimPrefix(envPrefix(string(c.Spec.Name)), "HERALD_CH_")
				found = found || strings.HasPrefix(rest, p) && len(rest) > len(p)
			}
			if !found {
				t.Errorf("%s sets %s, which names no channel of its config", what, v)
			}
			continue
		}
		if !read[v] && !goRuntimeEnv[v] {
			t.Errorf("%s sets %s, which herald does not read", what, v)
		}
	}
}

// mebibytes reads a Kubernetes or Go memory size in Mi/MiB or Gi/GiB.
func mebibytes(t *testing.T, v string) int {
	t.Helper()
	for suffix, mul := range map[string]int{"MiB": 1, "Mi": 1, "GiB": 1024, "Gi": 1024} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			if x, err := strconv.Atoi(n); err == nil {
				return x * mul
			}
		}
	}
	t.Fatalf("memory size %q: want a number of Mi(B) or Gi(B)", v)
	return 0
}

// goRuntimeEnv are the variables Go's runtime reads itself (herald does not).
var goRuntimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true, "GODEBUG": true}

func envPrefix(name string) string {
	return "HERALD_CH_" + strings.ToUpper(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(name, "_")) + "_"
}

func port(t *testing.T, what, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%s: %q is not host:port", what, addr)
	}
	return n
}

// served fails unless the API answers path (any status but 404 and 405).
func served(t *testing.T, what, path string) {
	t.Helper()
	rdb, _ := redistest.Start(t)
	s := &web.Server{Broker: queue.NewBroker(rdb, queue.Options{}), Token: "deploy-test-token-0123456789", Logger: zap.NewNop()}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
		t.Errorf("%s probes GET %s: the server answers %d", what, path, rec.Code)
	}
}

type probe struct {
	HTTPGet struct{ Path, Port string } `yaml:"httpGet"`
}

func TestDeployKubernetesAgreesWithTheCode(t *testing.T) {
	// The README creates the Secret with kubectl, then applies herald.yaml (and again after
	// every config change): a Secret in herald.yaml would overwrite the real token, Redis URL
	// and bot tokens with its placeholders each time. Its example lives in a file of its own.
	manifest := readDeploy(t, "kubernetes", "herald.yaml")
	if regexp.MustCompile(`(?m)^kind: Secret\b`).MatchString(manifest) {
		t.Errorf("deploy/kubernetes/herald.yaml holds a Secret: applying it replaces the herald-secrets made with kubectl create secret by its placeholders")
	}
	dec := yaml.NewDecoder(strings.NewReader(manifest + "\n---\n" + readDeploy(t, "kubernetes", "secret.example.yaml")))
	var cfgText string
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					Grace           int `yaml:"terminationGracePeriodSeconds"`
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
						RunAsUser    int  `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []struct {
						Args  []string
						Ports []struct {
							Name          string
							ContainerPort int `yaml:"containerPort"`
						}
						Env          []struct{ Name, Value string }
						VolumeMounts []struct {
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
						ReadinessProbe probe `yaml:"readinessProbe"`
						LivenessProbe  probe `yaml:"livenessProbe"`
						Resources      struct {
							Limits struct{ Memory string }
						}
					}
				}
			}
		}
	}
	var secretKeys []string
	found := 0
	for {
		var doc struct {
			Kind       string
			Data       map[string]string
			StringData map[string]string `yaml:"stringData"`
		}
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ConfigMap":
			cfgText = doc.Data["herald.yaml"]
			found++
		case "Secret":
			for k := range doc.StringData {
				secretKeys = append(secretKeys, k)
			}
			found++
		case "Deployment":
			if err := node.Decode(&dep); err != nil {
				t.Fatal(err)
			}
			found++
		}
	}
	if found != 3 || cfgText == "" {
		t.Fatalf("want a ConfigMap with herald.yaml, a Secret and a Deployment; found %d", found)
	}
	cfg, err := config.Parse([]byte(cfgText))
	if err != nil {
		t.Fatalf("the ConfigMap's herald.yaml: %v", err)
	}
	ps := dep.Spec.Template.Spec
	checkGrace(t, "Deployment terminationGracePeriodSeconds", time.Duration(ps.Grace)*time.Second, cfg)
	if !ps.SecurityContext.RunAsNonRoot || ps.SecurityContext.RunAsUser == 0 {
		t.Errorf("the pod may run as root: %+v", ps.SecurityContext)
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("%d containers", len(ps.Containers))
	}
	c := ps.Containers[0]
	if strings.Join(c.Args, " ") != "serve --config "+deployConfigPath ||
		len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath+"/herald.yaml" != deployConfigPath {
		t.Errorf("args %v with the config mounted at %+v", c.Args, c.VolumeMounts)
	}
	addr := cfg.HTTP.Addr
	var vars []string
	for _, e := range c.Env {
		vars = append(vars, e.Name)
		if e.Name == "HERALD_HTTP_ADDR" {
			addr = e.Value
		}
	}
	checkEnv(t, "the Deployment", append(vars, secretKeys...), cfg, envRead(t, cfgText))
	// With a memory limit, Go's soft limit sits under it, so the collector works harder before
	// the kernel kills the pod.
	if lim := c.Resources.Limits.Memory; lim != "" {
		soft := ""
		for _, e := range c.Env {
			if e.Name == "GOMEMLIMIT" {
				soft = e.Value
			}
		}
		if soft == "" || mebibytes(t, soft) >= mebibytes(t, lim) {
			t.Errorf("limits.memory %s with GOMEMLIMIT %q: want GOMEMLIMIT set below it", lim, soft)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != port(t, "http.addr", addr) {
		t.Errorf("containerPort %+v, herald listens on %s", c.Ports, addr)
	}
	for what, p := range map[string]struct{ Path, Port string }{"readinessProbe": c.ReadinessProbe.HTTPGet, "livenessProbe": c.LivenessProbe.HTTPGet} {
		if p.Port != c.Ports[0].Name {
			t.Errorf("%s probes port %q, the container's port is %q", what, p.Port, c.Ports[0].Name)
		}
		served(t, what, p.Path)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("readiness %s, liveness %s: want /readyz and /healthz (a Redis outage must not restart every pod)",
			c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
}

func TestDeployComposeAgreesWithTheCode(t *testing.T) {
	var doc struct {
		Services map[string]struct {
			Build struct {
				Context, Dockerfile, Target string
			}
			Environment     map[string]string
			Volumes         []string
			StopGracePeriod string `yaml:"stop_grace_period"`
			Healthcheck     struct{ Test []string }
			Command         []string
		}
	}
	if err := yaml.Unmarshal([]byte(readDeploy(t, "docker-compose.yml")), &doc); err != nil {
		t.Fatal(err)
	}
	h, ok := doc.Services["herald"]
	if !ok {
		t.Fatal("no herald service")
	}
	cfg := exampleConfig(t)
	mounted := false
	for _, v := range h.Volumes {
		mounted = mounted || v == "../herald.example.yaml:"+deployConfigPath+":ro"
	}
	if !mounted {
		t.Errorf("volumes %v do not mount herald.example.yaml at %s", h.Volumes, deployConfigPath)
	}
	grace, err := time.ParseDuration(h.StopGracePeriod)
	if err != nil {
		t.Fatalf("stop_grace_period %q: %v", h.StopGracePeriod, err)
	}
	checkGrace(t, "compose stop_grace_period", grace, cfg)
	var vars []string
	for k := range h.Environment {
		vars = append(vars, k)
	}
	raw, _ := os.ReadFile(filepath.Join("..", "..", "herald.example.yaml"))
	checkEnv(t, "docker-compose.yml", vars, cfg, envRead(t, string(raw)))
	addr := h.Environment["HERALD_HTTP_ADDR"]
	test := strings.Join(h.Healthcheck.Test, " ")
	m := regexp.MustCompile(`http://127\.0\.0\.1:(\d+)(/\S*)`).FindStringSubmatch(test)
	if m == nil || m[1] != strconv.Itoa(port(t, "HERALD_HTTP_ADDR", addr)) {
		t.Fatalf("healthcheck %q does not ask herald's port (%s)", test, addr)
	}
	served(t, "the compose healthcheck", m[2])
	if strings.Contains(test, "curl") && h.Build.Target != "debian" {
		t.Errorf("the healthcheck runs curl; only the debian target has it (target %q)", h.Build.Target)
	}
	if h.Build.Context != ".." || h.Build.Dockerfile != "deploy/Dockerfile" {
		t.Errorf("build %+v: want the repository root and deploy/Dockerfile", h.Build)
	}
}

func TestDeploySystemdAgreesWithTheCode(t *testing.T) {
	unit := readDeploy(t, "systemd", "herald.service")
	val := func(key string) string {
		m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(unit)
		if m == nil {
			t.Fatalf("herald.service has no %s=", key)
		}
		return strings.TrimSpace(m[1])
	}
	cfg := exampleConfig(t)
	grace, err := time.ParseDuration(strings.TrimSuffix(val("TimeoutStopSec"), "s") + "s")
	if err != nil {
		t.Fatal(err)
	}
	checkGrace(t, "systemd TimeoutStopSec", grace, cfg)
	if u := val("User"); u == "" || u == "root" || u == "0" {
		t.Errorf("User=%s", u)
	}
	if !strings.HasSuffix(val("ExecStart"), " serve --config "+deployConfigPath) {
		t.Errorf("ExecStart=%s", val("ExecStart"))
	}
	var vars []string
	sc := bufio.NewScanner(strings.NewReader(readDeploy(t, "systemd", "herald.env.example")))
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "# ")
		if k, _, ok := strings.Cut(line, "="); ok && regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) {
			vars = append(vars, k)
		}
	}
	raw, _ := os.ReadFile(filepath.Join("..", "..", "herald.example.yaml"))
	checkEnv(t, "herald.env.example", vars, cfg, envRead(t, string(raw)))
}

func TestDeployDockerfileAgreesWithTheCode(t *testing.T) {
	df := readDeploy(t, "Dockerfile")
	// Runtime stages: every FROM after the build stage.
	stages := regexp.MustCompile(`(?m)^FROM `).Split(df, -1)[1:]
	runtimes := 0
	for _, st := range stages {
		name := strings.Fields(st)[len(strings.Fields(strings.SplitN(st, "\n", 2)[0]))-1]
		if strings.Contains(strings.SplitN(st, "\n", 2)[0], " AS build") {
			continue
		}
		runtimes++
		user := regexp.MustCompile(`(?m)^USER (\d+)`).FindStringSubmatch(st)
		if user == nil || user[1] == "0" {
			t.Errorf("stage %s: no numeric non-root USER", name)
		}
		addr := regexp.MustCompile(`(?m)^ENV HERALD_HTTP_ADDR=(\S+)`).FindStringSubmatch(st)
		expose := regexp.MustCompile(`(?m)^EXPOSE (\d+)`).FindStringSubmatch(st)
		if addr == nil || expose == nil || strconv.Itoa(port(t, "HERALD_HTTP_ADDR", addr[1])) != expose[1] {
			t.Errorf("stage %s: HERALD_HTTP_ADDR %v and EXPOSE %v disagree", name, addr, expose)
		}
		if !strings.Contains(st, `CMD ["serve", "--config", "`+deployConfigPath+`"]`) ||
			!strings.Contains(st, "COPY --from=build /out/etc/herald/herald.yaml "+deployConfigPath) {
			t.Errorf("stage %s: does not run serve with the config it copies to %s", name, deployConfigPath)
		}
	}
	if runtimes != 2 {
		t.Fatalf("%d runtime stages, want debian and distroless", runtimes)
	}
	if !strings.Contains(df, "go build -trimpath -ldflags=\"-s -w\" -o /out/herald ./cmd/herald") {
		t.Error("the build stage does not build ./cmd/herald")
	}
	// The build context (the repository root minus Dockerfile.dockerignore) keeps every file the
	// build reads: go.mod, go.sum, herald.example.yaml, and the Go and embedded files of every
	// package of the module ./cmd/herald imports.
	var patterns []string
	for _, l := range strings.Split(readDeploy(t, "Dockerfile.dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/"))
		}
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if eq .Module.Path "herald"}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	needed := []string{"go.mod", "go.sum", "herald.example.yaml"}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(l, "|")
		rel, _ := filepath.Rel(root, parts[0])
		for _, f := range append(strings.Split(parts[1], ","), strings.Split(parts[2], ",")...) {
			if f != "" {
				needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
			}
		}
	}
	if len(needed) < 50 {
		t.Fatalf("only %d files found to build", len(needed))
	}
	for _, f := range needed {
		if p := ignoredBy(patterns, f); p != "" {
			t.Errorf("the image's build needs %s, which Dockerfile.dockerignore leaves out (%s)", f, p)
		}
	}
	if ignoredBy(patterns, "deploy/Dockerfile") == "" || ignoredBy(patterns, ".git/HEAD") == "" {
		t.Error("the ignore matcher matches nothing")
	}
}

// ignoredBy returns the dockerignore pattern that leaves path out, if any: a pattern matches
// the path or any directory above it; a leading **/ matches at any depth.
func ignoredBy(patterns []string, path string) string {
	segs := strings.Split(path, "/")
	for _, p := range patterns {
		anyDepth := strings.HasPrefix(p, "**/")
		p2 := strings.TrimPrefix(p, "**/")
		for i := 1; i <= len(segs); i++ {
			starts := []int{0}
			if anyDepth {
				starts = starts[:0]
				for s := 0; s < i; s++ {
					starts = append(starts, s)
				}
			}
			for _, s := range starts {
				if ok, _ := filepath.Match(p2, strings.Join(segs[s:i], "/")); ok {
					return p
				}
			}
		}
	}
	return ""
}
