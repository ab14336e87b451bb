package proc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stubborn is a process group whose leader and child ignore SIGTERM.
func stubborn(t *testing.T) Spec {
	t.Helper()
	dir := t.TempDir()
	return Spec{Name: "stubborn", Argv: []string{"sh", "-c", "trap '' TERM; sleep 300 & echo ready; wait; sleep 300"},
		LogPath: filepath.Join(dir, "log"), Pidfile: filepath.Join(dir, "pid")}
}

func waitLog(t *testing.T, path, want string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never said %q", path, want)
}

// gone waits for a group's orphans to be reaped by init.
func gone(pgid int) bool {
	for i := 0; i < 50 && Alive(pgid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	return !Alive(pgid)
}

func TestStopKillsGroupIgnoringTERM(t *testing.T) {
	for _, c := range []struct {
		name string
		end  func(p *Process)
	}{
		{"Stop after grace", func(p *Process) { p.Stop(200 * time.Millisecond) }},
		{"Kill", func(p *Process) { p.Kill() }},
		{"KillAll", func(p *Process) {
			KillAll()
			if _, err := Start(Spec{Argv: []string{"true"}}); !errors.Is(err, ErrAborting) {
				t.Errorf("Start after KillAll: %v, want ErrAborting", err)
			}
			mu.Lock()
			aborting = false // for the tests after this one
			mu.Unlock()
		}},
		{"Kill during Stop's grace", func(p *Process) {
			go p.Stop(time.Hour)
			time.Sleep(100 * time.Millisecond)
			p.Kill()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := stubborn(t)
			p, err := Start(s)
			if err != nil {
				t.Fatal(err)
			}
			waitLog(t, s.LogPath, "ready")
			if pid, err := ReadPidfile(s.Pidfile); err != nil || pid != p.Pid() {
				t.Fatalf("pidfile: %d %v, want %d", pid, err, p.Pid())
			}
			done := make(chan struct{})
			go func() { c.end(p); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("did not return within 10 s")
			}
			if !gone(p.Pid()) {
				t.Errorf("process group %d survived", p.Pid())
			}
			if _, err := os.Stat(s.Pidfile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("pidfile left behind: %v", err)
			}
		})
	}
}

func TestRun(t *testing.T) {
	if err := Run(context.Background(), Spec{Argv: []string{"sh", "-c", "exit 3"}}, time.Second); err == nil {
		t.Error("exit 3 reported as success")
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	marker := filepath.Join(t.TempDir(), "ran")
	if err := Run(done, Spec{Argv: []string{"touch", marker}}, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("Run started a process after its context ended")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s := stubborn(t)
	start := time.Now()
	if err := Run(ctx, s, 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run after ctx ended: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %s to stop a group ignoring SIGTERM", d)
	}
	if _, err := Start(Spec{}); err == nil {
		t.Error("Start with no argv succeeded")
	}
}

func TestStopGroup(t *testing.T) {
	s := stubborn(t)
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, s.LogPath, "ready")
	// As `forge engine stop` does after Forge was SIGKILLed: by group id.
	if running, err := StopGroup(p.Pid(), 200*time.Millisecond); !running || err != nil {
		t.Errorf("StopGroup: running %v, %v", running, err)
	}
	<-p.Done()
	if !gone(p.Pid()) {
		t.Error("group survived StopGroup")
	}
	if running, err := StopGroup(p.Pid(), time.Millisecond); running || err != nil {
		t.Errorf("StopGroup of a gone group: running %v, %v", running, err)
	}
	p.Kill()
}
