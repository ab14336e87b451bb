package observe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/proc"
)

// Process is a started Prometheus or Grafana, stopped with Stop.
type Process struct {
	Name string
	URL  string
	Log  string // its output goes here
	p    *proc.Process
}

// Stop ends the process group (SIGTERM, then SIGKILL after 10 s) and
// waits; calling it again does nothing.
func (p *Process) Stop() {
	if p != nil {
		p.p.Stop(10 * time.Second)
	}
}

// start runs bin with args and env, output to logPath, and waits until
// readyURL answers 200 (the process's readiness endpoint) or it exits.
func start(ctx context.Context, name, bin string, args, env []string, dir, logPath, readyURL, baseURL string) (*Process, error) {
	child, err := proc.Start(proc.Spec{Name: name, Argv: append([]string{bin}, args...), Env: env, Dir: dir, LogPath: logPath})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &Process{Name: name, URL: baseURL, Log: logPath, p: child}
	switch err := proc.WaitHTTP(ctx, readyURL, 60*time.Second, child.Done()); {
	case err == nil:
		return p, nil
	case errors.Is(err, proc.ErrExited):
		p.Stop()
		return nil, fmt.Errorf("%s exited before it was ready (%v); its log: %s\n%s", name, child.Err(), logPath, proc.Tail(logPath, 20))
	case ctx.Err() != nil:
		p.Stop()
		return nil, ctx.Err()
	default:
		p.Stop()
		return nil, fmt.Errorf("%s was not ready at %s within 60 s; its log: %s\n%s", name, readyURL, logPath, proc.Tail(logPath, 20))
	}
}

// StartPrometheus runs Prometheus on the generated configuration in dir,
// listening on addr, with its data under dir/prometheus-data.
func StartPrometheus(ctx context.Context, bin, dir, addr string) (*Process, error) {
	dir, err := filepath.Abs(dir) // the process runs in dir
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "prometheus-data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	base := "http://" + addr
	args := []string{"--config.file=" + filepath.Join(dir, PrometheusFile), "--storage.tsdb.path=" + data,
		"--web.listen-address=" + addr, "--storage.tsdb.retention.time=2d", "--log.level=warn"}
	return start(ctx, "prometheus", bin, args, nil, dir, filepath.Join(dir, "prometheus.log"), base+"/-/ready", base)
}

// FindGrafana locates Grafana's server and its home (the directory with
// conf/defaults.ini): `grafana server` (≥ 10) or `grafana-server`, home
// next to the binary as Nix and the release tarballs lay it out, or the
// Debian/RPM path. ok is false when there is none.
func FindGrafana() (bin string, args []string, home string, ok bool) {
	for _, c := range []struct {
		name string
		args []string
	}{{"grafana", []string{"server"}}, {"grafana-server", nil}} {
		path, err := exec.LookPath(c.name)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			real = path
		}
		for _, h := range []string{filepath.Join(filepath.Dir(real), "..", "share", "grafana"), filepath.Join(filepath.Dir(real), ".."), "/usr/share/grafana"} {
			if _, err := os.Stat(filepath.Join(h, "conf", "defaults.ini")); err == nil {
				return path, c.args, filepath.Clean(h), true
			}
		}
	}
	return "", nil, "", false
}

// ErrNoGrafana says Grafana is not installed; Prometheus runs without it.
var ErrNoGrafana = errors.New("grafana is not installed here (it comes with `nix develop`; Debian has no package): running Prometheus alone, its UI shows every query")

// StartGrafana runs Grafana on the provisioning in dir, anonymous viewer
// access, listening on addr.
func StartGrafana(ctx context.Context, dir, addr string) (*Process, error) {
	bin, args, home, ok := FindGrafana()
	if !ok {
		return nil, ErrNoGrafana
	}
	host, port, _ := strings.Cut(addr, ":")
	data := filepath.Join(dir, "grafana-data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	env := []string{
		DirEnv + "=" + abs,
		"GF_PATHS_PROVISIONING=" + filepath.Join(abs, ProvisioningDir),
		"GF_PATHS_DATA=" + data,
		"GF_PATHS_LOGS=" + data,
		"GF_SERVER_HTTP_ADDR=" + host,
		"GF_SERVER_HTTP_PORT=" + port,
		"GF_AUTH_ANONYMOUS_ENABLED=true",
		"GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer",
		"GF_ANALYTICS_REPORTING_ENABLED=false",
		"GF_ANALYTICS_CHECK_FOR_UPDATES=false",
		"GF_NEWS_NEWS_FEED_ENABLED=false",
	}
	args = append(args, "--homepath", home)
	base := "http://" + addr
	return start(ctx, "grafana", bin, args, env, dir, filepath.Join(dir, "grafana.log"), base+"/api/health", base)
}
