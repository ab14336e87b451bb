package observe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("; Grafana defaults\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readiness is a stand-in for the started server's HTTP side: it answers
// every request with code and records the paths asked for. Its address is
// the one the process is told to listen on.
type readiness struct {
	srv   *httptest.Server
	mu    sync.Mutex
	paths []string
}

func newReadiness(t *testing.T, code int) *readiness {
	t.Helper()
	r := &readiness{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *readiness) addr() string { return r.srv.Listener.Addr().String() }

func (r *readiness) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths)
}

// TestStartPrometheusExits: a Prometheus that exits at once is reported
// with the tail of its log, which holds the flags it was given.
func TestStartPrometheusExits(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "prometheus")
	writeScript(t, bin, `echo "started with: $*"
echo "Error parsing command line arguments: bad flag --web.listen-address" >&2
exit 1`)
	ready := newReadiness(t, http.StatusServiceUnavailable)
	p, err := StartPrometheus(context.Background(), bin, dir, ready.addr())
	if err == nil {
		p.Stop()
		t.Fatal("StartPrometheus succeeded with a binary that exits 1")
	}
	logPath := filepath.Join(dir, "prometheus.log")
	for _, want := range []string{
		"prometheus exited before it was ready",
		"exit status 1",
		logPath,
		"bad flag --web.listen-address",
		"--config.file=" + filepath.Join(dir, PrometheusFile),
		"--storage.tsdb.path=" + filepath.Join(dir, "prometheus-data"),
		"--web.listen-address=" + ready.addr(),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if b, rerr := os.ReadFile(logPath); rerr != nil || !strings.Contains(string(b), "bad flag") {
		t.Errorf("log %s: %q, %v; want the process's output", logPath, b, rerr)
	}
	if fi, serr := os.Stat(filepath.Join(dir, "prometheus-data")); serr != nil || !fi.IsDir() {
		t.Errorf("prometheus-data was not created: %v", serr)
	}
	if asked := ready.asked(); len(asked) == 0 || asked[0] != "/-/ready" {
		t.Errorf("readiness requests %q, want /-/ready", asked)
	}
}

// TestStartPrometheusReadyAndStop: a process whose listen address answers
// /-/ready is returned, and Stop ends it.
func TestStartPrometheusReadyAndStop(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "prometheus")
	writeScript(t, bin, `echo up; exec sleep 60`)
	ready := newReadiness(t, http.StatusOK)
	p, err := StartPrometheus(context.Background(), bin, dir, ready.addr())
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "prometheus" || p.URL != "http://"+ready.addr() || p.Log != filepath.Join(dir, "prometheus.log") {
		t.Errorf("process %+v, want prometheus at http://%s logging to prometheus.log", p, ready.addr())
	}
	p.Stop()
	select {
	case <-p.p.Done():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	if p.p.Err() == nil {
		t.Error("the process exited successfully, want the SIGTERM's status")
	}
	// A second Stop returns at once (a deferred Stop after an explicit one).
	done := make(chan struct{})
	go func() { p.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a second Stop blocks")
	}
}

// TestStartPrometheusContext: a process that never gets ready is stopped
// when the context ends, and the context's error is returned.
func TestStartPrometheusContext(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "prometheus")
	writeScript(t, bin, `exec sleep 60`)
	ready := newReadiness(t, http.StatusServiceUnavailable)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p, err := StartPrometheus(ctx, bin, dir, ready.addr())
	if !errors.Is(err, context.DeadlineExceeded) || p != nil {
		t.Errorf("StartPrometheus = %v, %v; want nil, context.DeadlineExceeded", p, err)
	}
}

func TestStartPrometheusNoBinary(t *testing.T) {
	_, err := StartPrometheus(context.Background(), filepath.Join(t.TempDir(), "missing"), t.TempDir(), "127.0.0.1:1")
	if err == nil || !strings.HasPrefix(err.Error(), "prometheus: ") {
		t.Errorf("StartPrometheus with no binary = %v, want a prometheus: error", err)
	}
}

func TestFindGrafana(t *testing.T) {
	// A home at the Debian/RPM path is found for any grafana on PATH.
	_, err := os.Stat("/usr/share/grafana/conf/defaults.ini")
	systemHome := err == nil
	cases := []struct {
		name     string
		exec     []string // executables to create, relative to the temp dir
		links    [][2]string
		files    []string // plain files to create
		path     string   // PATH, relative to the temp dir
		wantOK   bool
		wantBin  string // relative to the temp dir
		wantArgs []string
		wantHome string // relative to the temp dir (after resolving symlinks)
	}{
		{name: "grafana with ../share/grafana", exec: []string{"bin/grafana"}, files: []string{"share/grafana/conf/defaults.ini"},
			path: "bin", wantOK: true, wantBin: "bin/grafana", wantArgs: []string{"server"}, wantHome: "share/grafana"},
		{name: "grafana-server with the tarball's layout", exec: []string{"bin/grafana-server"}, files: []string{"conf/defaults.ini"},
			path: "bin", wantOK: true, wantBin: "bin/grafana-server", wantHome: "."},
		{name: "grafana preferred to grafana-server", exec: []string{"bin/grafana", "bin/grafana-server"},
			files: []string{"share/grafana/conf/defaults.ini"},
			path:  "bin", wantOK: true, wantBin: "bin/grafana", wantArgs: []string{"server"}, wantHome: "share/grafana"},
		{name: "symlink into a Nix store path", exec: []string{"store/grafana-12/bin/grafana"},
			links: [][2]string{{"profile/bin/grafana", "../../store/grafana-12/bin/grafana"}},
			files: []string{"store/grafana-12/share/grafana/conf/defaults.ini"},
			path:  "profile/bin", wantOK: true, wantBin: "profile/bin/grafana", wantArgs: []string{"server"},
			wantHome: "store/grafana-12/share/grafana"},
		{name: "empty PATH directory", path: "bin"},
		{name: "grafana not executable", files: []string{"bin/grafana", "share/grafana/conf/defaults.ini"}, path: "bin"},
		{name: "grafana without a home", exec: []string{"bin/grafana"}, path: "bin",
			wantOK: systemHome, wantBin: "bin/grafana", wantArgs: []string{"server"}, wantHome: "/usr/share/grafana"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			if err := os.MkdirAll(filepath.Join(tmp, c.path), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, e := range c.exec {
				writeScript(t, filepath.Join(tmp, e), "exit 0")
			}
			for _, f := range c.files {
				writeFile(t, filepath.Join(tmp, f))
			}
			for _, l := range c.links {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(tmp, l[0])), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(l[1], filepath.Join(tmp, l[0])); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", filepath.Join(tmp, c.path))
			bin, args, home, ok := FindGrafana()
			if ok != c.wantOK {
				t.Fatalf("FindGrafana ok = %v (bin %q, home %q), want %v", ok, bin, home, c.wantOK)
			}
			if !ok {
				if bin != "" || args != nil || home != "" {
					t.Errorf("not found, yet bin %q, args %q, home %q", bin, args, home)
				}
				return
			}
			real, err := filepath.EvalSymlinks(tmp)
			if err != nil {
				t.Fatal(err)
			}
			wantHome := c.wantHome
			if !filepath.IsAbs(wantHome) {
				wantHome = filepath.Join(real, wantHome)
			}
			if bin != filepath.Join(tmp, c.wantBin) || !slices.Equal(args, c.wantArgs) || home != wantHome {
				t.Errorf("FindGrafana = %q %q %q, want %q %q %q", bin, args, home, filepath.Join(tmp, c.wantBin), c.wantArgs, wantHome)
			}
		})
	}
}

// TestStartGrafana: without Grafana it is ErrNoGrafana; with one, it runs
// `grafana server --homepath <home>` with the stack's environment.
func TestStartGrafana(t *testing.T) {
	t.Run("not installed", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		if _, err := StartGrafana(context.Background(), t.TempDir(), "127.0.0.1:3000"); !errors.Is(err, ErrNoGrafana) {
			t.Errorf("StartGrafana = %v, want ErrNoGrafana", err)
		}
	})
	t.Run("exits", func(t *testing.T) {
		tmp := t.TempDir()
		writeScript(t, filepath.Join(tmp, "bin", "grafana"), `PATH=/usr/bin:/bin # the test's PATH holds only the fake grafana
echo "args: $*"
env | grep -E '^(GF_PATHS_PROVISIONING|GF_SERVER_HTTP_(ADDR|PORT)|GF_AUTH_ANONYMOUS_ENABLED|FORGE_OBSERVABILITY_DIR)=' | sort
exit 2`)
		writeFile(t, filepath.Join(tmp, "share", "grafana", "conf", "defaults.ini"))
		t.Setenv("PATH", filepath.Join(tmp, "bin"))
		_, _, home, ok := FindGrafana()
		if !ok {
			t.Fatal("the fake grafana is not found")
		}
		dir := t.TempDir()
		ready := newReadiness(t, http.StatusServiceUnavailable)
		host, port, _ := strings.Cut(ready.addr(), ":")
		p, err := StartGrafana(context.Background(), dir, ready.addr())
		if err == nil {
			p.Stop()
			t.Fatal("StartGrafana succeeded with a binary that exits 2")
		}
		for _, want := range []string{
			"grafana exited before it was ready",
			"args: server --homepath " + home,
			"FORGE_OBSERVABILITY_DIR=" + dir,
			"GF_PATHS_PROVISIONING=" + filepath.Join(dir, ProvisioningDir),
			"GF_SERVER_HTTP_ADDR=" + host,
			"GF_SERVER_HTTP_PORT=" + port,
			"GF_AUTH_ANONYMOUS_ENABLED=true",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not contain %q:\n%v", want, err)
			}
		}
		if asked := ready.asked(); len(asked) == 0 || asked[0] != "/api/health" {
			t.Errorf("readiness requests %q, want /api/health", asked)
		}
	})
}
