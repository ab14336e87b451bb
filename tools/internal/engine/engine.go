// Package engine runs the engine an experiment is served by: a vLLM child
// process (in its own process group, logging to server.log) or the twin in
// this process. It starts the engine, waits until it is healthy, explains a
// start that failed from the engine's log, checks what vLLM resolved against
// the plan, watches the engine while the sweep runs (a dead engine must stop
// the sweep, not be measured as a wall of failed requests), and stops it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
	"github.com/forge-bench/forge/tools/internal/rundir"
	"github.com/forge-bench/forge/tools/internal/twin"
)

// Options are a start's settings that are not in the plan.
type Options struct {
	TimeScale     float64       // twin only
	HealthTimeout time.Duration // how long vLLM may take to answer /health
	Log           io.Writer     // one line per event (started, port taken, died)
	// StopGrace is how long vLLM gets after SIGTERM before its group is
	// killed (default 30 s).
	StopGrace time.Duration
}

// Engine is a started, healthy engine.
type Engine struct {
	Kind      string
	URL       string // http://host:port, where it actually listens
	LogPath   string // server.log; "" for the twin
	p         *proc.Process
	cancel    context.CancelFunc // the twin's
	served    chan struct{}      // the twin's Serve returned
	grace     time.Duration
	died      chan struct{}
	diagnosed chan struct{} // closed once cause holds the log's diagnosis
	quit      chan struct{} // closed by Stop: the watcher ends
	mu        sync.Mutex
	cause     string
	stopped   bool
	once      sync.Once
}

// ErrDied is wrapped by the error a sweep ends with when the engine died.
var ErrDied = errors.New("the engine died")

// Start starts the plan's engine with dir as its working directory (the
// run directory: vLLM's generated config, server.log, server.pid) and
// returns once it answers /health. A port already in use is reported
// before a vLLM starts (a health check could otherwise be answered by
// whatever holds it); the in-process twin takes a free port instead.
func Start(ctx context.Context, p *plan.Plan, dir string, o Options) (*Engine, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 30 * time.Second
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 1
	}
	addr := net.JoinHostPort(p.Engine.Host, strconv.Itoa(p.Engine.Port))
	e := &Engine{Kind: p.Engine.Kind, died: make(chan struct{}), diagnosed: make(chan struct{}), quit: make(chan struct{}), grace: o.StopGrace}
	if p.Engine.Kind == "twin" {
		t, err := NewTwin(p, addr, TwinOptions{TimeScale: o.TimeScale, Seed: int64(p.Engine.Seed), AnyPort: true, Faults: twin.Faults{}})
		if err != nil {
			return nil, err
		}
		if t.Addr != addr {
			fmt.Fprintf(o.Log, "engine: %s is in use; the twin listens on %s instead\n", addr, t.Addr)
		}
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		e.URL, e.cancel, e.served = "http://"+t.Addr, cancel, make(chan struct{})
		go func() { _ = t.Serve(sctx); close(e.served) }()
		return e, nil
	}
	if err := startChild(p, dir, addr, e, o); err != nil {
		return nil, err
	}
	if err := proc.WaitHTTP(ctx, e.URL+"/health", o.HealthTimeout, e.p.Done()); err != nil {
		return nil, e.startFailure(err)
	}
	go e.watch()
	return e, nil
}

// startChild starts vLLM from the plan's serve step: the pinned venv's
// binary when it exists, else the flake's shell.
func startChild(p *plan.Plan, dir, addr string, e *Engine, o Options) error {
	if l, err := net.Listen("tcp", addr); err != nil {
		return fmt.Errorf("cannot start %s: %s is already in use (another server, or a previous run still stopping? `forge engine stop RUN_DIR` stops one Forge left behind): %v; stop it or set port in the engine block", p.Engine.Kind, addr, err)
	} else {
		l.Close()
	}
	if p.Engine.ConfigYAML != "" {
		if err := os.WriteFile(filepath.Join(dir, p.Engine.ConfigFile), []byte(p.Engine.ConfigYAML), 0o644); err != nil {
			return err
		}
	}
	step := p.Steps[0]
	argv := append([]string(nil), step.Argv...)
	if _, err := os.Stat(argv[0]); err != nil && len(step.Nix) > 0 {
		if _, err := exec.LookPath("nix"); err != nil {
			return fmt.Errorf("%s is not installed and nix is not on PATH: run `make %s` (or enter the flake's shell) first", argv[0], VenvTarget(argv[0]))
		}
		argv = append([]string(nil), step.Nix...)
	}
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], "{run_dir}", dir)
	}
	e.LogPath = filepath.Join(dir, rundir.ServerLog)
	child, err := proc.Start(proc.Spec{Name: p.Engine.Kind, Argv: argv, Env: step.Env, LogPath: e.LogPath, Pidfile: filepath.Join(dir, rundir.Pidfile)})
	if err != nil {
		return fmt.Errorf("%w (see %s)", err, e.LogPath)
	}
	e.p = child
	e.URL = fmt.Sprintf("http://%s", addr)
	fmt.Fprintf(o.Log, "started %s%s (pid %d), log %s\n", envPrefix(step.Env), strings.Join(argv, " "), child.Pid(), e.LogPath)
	return nil
}

// watch closes died when the child exits on its own, with the cause read
// from its log, or when its port refuses /health probes several times in a
// row (the API server is gone although the group's leader lives, e.g. a
// wrapper script). A slow answer is not death: under full load /health may
// take seconds, and only a refused connection counts.
func (e *Engine) watch() {
	refused := 0
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	for {
		select {
		case <-e.p.Done():
			e.die(fmt.Sprintf("%s exited (%v)", e.Kind, e.p.Err()))
			return
		case <-e.quit:
			return
		case <-t.C:
			if refusedConn(e.URL) {
				refused++
			} else {
				refused = 0
			}
			if refused >= healthRefusals {
				e.die(fmt.Sprintf("%s refuses connections on %s (%d probes of /health %s apart)", e.Kind, e.URL, refused, healthEvery))
				return
			}
		}
	}
}

// Probing /health: how often, and how many refused connections in a row
// make the engine dead.
const (
	healthEvery    = 2 * time.Second
	healthRefusals = 3
)

func (e *Engine) die(what string) {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return
	}
	e.cause = what
	close(e.died) // at once: the sweep must stop before the log is read
	e.mu.Unlock()
	d := e.diagnosis(what)
	e.mu.Lock()
	e.cause = d
	e.mu.Unlock()
	close(e.diagnosed)
}

// refusedConn says whether a TCP connection to url's host is refused.
func refusedConn(url string) bool {
	u, err := neturl.Parse(url)
	if err != nil {
		return false
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	c.Close()
	return false
}

// Died is closed when the engine ended without being stopped; never for
// the twin, which lives in this process.
func (e *Engine) Died() <-chan struct{} { return e.died }

// Cause says why the engine died, with what its log says ("" while it
// lives); after a death it waits for the log to be read.
func (e *Engine) Cause() string {
	select {
	case <-e.died:
		<-e.diagnosed
	default:
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cause
}

// Stop ends the engine: the twin at once, vLLM's whole process group with
// SIGTERM and then SIGKILL. It is idempotent.
func (e *Engine) Stop() {
	if e == nil {
		return
	}
	e.once.Do(func() {
		e.mu.Lock()
		e.stopped = true
		e.mu.Unlock()
		close(e.quit)
		if e.cancel != nil {
			e.cancel()
			<-e.served
		}
		e.p.Stop(e.grace)
	})
}

// diagnosis is what the engine's log says went wrong, after what.
func (e *Engine) diagnosis(what string) string {
	if e.LogPath == "" {
		return what
	}
	text, err := os.ReadFile(e.LogPath)
	if err != nil {
		return fmt.Sprintf("%s; server log %s: %v", what, e.LogPath, err)
	}
	if f, ok := Diagnose(string(text)); ok {
		return fmt.Sprintf("%s\n  cause (%s): %s:%d: %s\n  what to do: %s", what, f.Kind, e.LogPath, f.Line, f.Excerpt, f.Hint)
	}
	return fmt.Sprintf("%s; the log names no known cause, read %s", what, e.LogPath)
}

// startFailure explains a server that never became healthy: the cause read
// from its log (bad flag, port in use, out of memory, model not found ...),
// the line, what to do, and the log's path.
func (e *Engine) startFailure(waitErr error) error {
	e.Stop() // flush and close the log before reading it
	what := waitErr.Error()
	if errors.Is(waitErr, proc.ErrExited) && e.p.Err() != nil {
		what = fmt.Sprintf("the server exited before it became healthy (%v)", e.p.Err())
	}
	return fmt.Errorf("%s did not start: %s", e.Kind, e.diagnosis(what))
}

func envPrefix(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return strings.Join(env, " ") + " "
}

// VenvTarget is the make target that creates the venv holding bin.
func VenvTarget(bin string) string {
	switch {
	case strings.Contains(bin, "serve-cpu"):
		return "venv-serve-cpu"
	case strings.Contains(bin, "/eval/"):
		return "venv-eval"
	}
	return "venv-serve"
}
