// Package proc supervises the external programs Forge orchestrates (vLLM,
// Prometheus, Grafana, lm-eval, llm-compressor, model conversion, vLLM's
// bench client): each runs in its own process group, so that stopping it
// reaches its children too (vLLM's engine core is a child of its API
// server), and every group started is registered, so that a second Ctrl-C,
// SIGTERM or SIGHUP can kill all of them before Forge exits. No helper may
// outlive Forge: a process on a rented GPU keeps the GPU and the bill.
package proc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says what to start and where its output goes.
type Spec struct {
	Name    string   // for messages, e.g. "vllm", "lm-eval"
	Argv    []string // program and arguments
	Env     []string // added to Forge's environment
	Dir     string   // working directory ("" = Forge's)
	LogPath string   // stdout and stderr go to this file (created); else Output
	Output  io.Writer
	Stdout  io.Writer // when set, stdout goes here instead (a tool that prints its result on stdout)
	Pidfile string    // when set, the group's id is written here and removed once the group is gone
}

// Process is a started process group. Its leader's exit closes Done; Stop
// and Kill end the whole group and are safe to call more than once.
type Process struct {
	Name    string
	cmd     *exec.Cmd
	pidfile string
	done    chan struct{}
	err     error
	once    sync.Once
}

var (
	mu       sync.Mutex
	live     = map[*Process]struct{}{}
	aborting bool // KillAll has run: nothing more starts
)

// ErrAborting is returned by Start once KillAll has run.
var ErrAborting = errors.New("forge is aborting")

// Start starts s in a new process group and registers it.
func Start(s Spec) (*Process, error) {
	if len(s.Argv) == 0 {
		return nil, errors.New("proc: nothing to start")
	}
	var out io.Writer = s.Output
	var logf *os.File
	if s.LogPath != "" {
		f, err := os.Create(s.LogPath)
		if err != nil {
			return nil, err
		}
		logf, out = f, f
	}
	cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out, out
	if s.Stdout != nil {
		cmd.Stdout = s.Stdout
	}
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Started and registered under the lock, so that KillAll sees every
	// group, and none starts once it has run.
	mu.Lock()
	err := ErrAborting
	if !aborting {
		err = cmd.Start()
	}
	if err != nil {
		mu.Unlock()
		if logf != nil {
			logf.Close()
		}
		return nil, fmt.Errorf("start %s: %w", strings.Join(s.Argv, " "), err)
	}
	p := &Process{Name: cmp.Or(s.Name, s.Argv[0]), cmd: cmd, pidfile: s.Pidfile, done: make(chan struct{})}
	live[p] = struct{}{}
	mu.Unlock()
	if s.Pidfile != "" {
		_ = os.WriteFile(s.Pidfile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	}
	go func() {
		p.err = cmd.Wait()
		if logf != nil {
			logf.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// Pid is the leader's process id, which is also the group's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the leader has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the leader's exit status once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Stop sends SIGTERM to the group, waits up to grace for the leader, then
// SIGKILLs the group (also when the leader exited in time: its children may
// not have) and waits for the leader.
func (p *Process) Stop(grace time.Duration) {
	if p == nil {
		return
	}
	p.once.Do(func() {
		_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-p.done:
		case <-t.C:
		}
		t.Stop()
		p.finish()
	})
}

// Kill SIGKILLs the group at once and waits for the leader, also while a
// Stop is waiting out its grace period (the abort path must not wait).
func (p *Process) Kill() {
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.done
	p.once.Do(p.finish)
}

func (p *Process) finish() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.done
	// The leader is reaped; members that ignored everything but SIGKILL
	// were killed with it. One more for children forked in between.
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	if p.pidfile != "" {
		_ = os.Remove(p.pidfile)
	}
	mu.Lock()
	delete(live, p)
	mu.Unlock()
}

// KillAll SIGKILLs every group this process started and has not stopped,
// all at once, waits up to 5 s for their leaders, and refuses every later
// Start. It is the abort path (second Ctrl-C, SIGTERM, SIGHUP), which must
// end Forge even when a process is stuck; it returns the groups' names.
func KillAll() []string {
	mu.Lock()
	aborting = true
	ps := make([]*Process, 0, len(live))
	for p := range live {
		ps = append(ps, p)
	}
	mu.Unlock()
	var names []string
	for _, p := range ps {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		names = append(names, fmt.Sprintf("%s (%d)", p.Name, p.Pid()))
	}
	deadline := time.After(5 * time.Second)
	for _, p := range ps {
		select {
		case <-p.done:
			p.once.Do(p.finish)
		case <-deadline:
			return names
		}
	}
	return names
}

// Run starts s and waits for it. When ctx ends first the group is stopped
// (SIGTERM, then SIGKILL after grace) and ctx's error is returned.
func Run(ctx context.Context, s Spec, grace time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := Start(s)
	if err != nil {
		return err
	}
	select {
	case <-p.Done():
		p.Kill() // reap any children the leader left behind
		return p.Err()
	case <-ctx.Done():
		p.Stop(grace)
		return ctx.Err()
	}
}

// PidAlive says whether process pid exists (one owned by another user
// counts: it exists).
func PidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Alive says whether any process of the group pgid exists.
func Alive(pgid int) bool {
	if pgid <= 0 {
		return false
	}
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// StopGroup ends a group this process did not start (forge engine stop
// after Forge itself was SIGKILLed): SIGTERM, up to grace for it to go,
// then SIGKILL. It reports whether anything was running, and an error when
// the group is not this user's to signal (a recycled id) or survives.
func StopGroup(pgid int, grace time.Duration) (bool, error) {
	switch err := syscall.Kill(-pgid, 0); {
	case pgid <= 0, errors.Is(err, syscall.ESRCH):
		return false, nil
	case errors.Is(err, syscall.EPERM):
		return false, fmt.Errorf("process group %d belongs to another user: not the engine Forge started (its id was reused?); left alone", pgid)
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for Alive(pgid) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for i := 0; i < 50 && Alive(pgid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if Alive(pgid) {
		return true, fmt.Errorf("process group %d is still there after SIGKILL (a process stuck in the kernel?)", pgid)
	}
	return true, nil
}

// ReadPidfile reads a group id written by Start.
func ReadPidfile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: not a process id: %q", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// Tail is the last n lines of a log file, for error messages ("" when it
// cannot be read).
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
