package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
)

// TestMain lets the test binary be a minimal engine: with
// ENGINE_TEST_LISTEN set it answers /health on that address until killed.
func TestMain(m *testing.M) {
	if addr := os.Getenv("ENGINE_TEST_LISTEN"); addr != "" {
		http.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {})
		fmt.Println(http.ListenAndServe(addr, nil))
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// childPlan is a vLLM plan whose serve step is a shell script around the
// test binary (the fake engine).
func childPlan(t *testing.T, script string) (*plan.Plan, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script = strings.ReplaceAll(script, "ENGINE", fmt.Sprintf("ENGINE_TEST_LISTEN=127.0.0.1:%d %q", port, self))
	p := &plan.Plan{Engine: plan.Engine{Kind: "vllm", Host: "127.0.0.1", Port: port},
		Steps: []plan.Step{{Name: "serve", Argv: []string{"sh", "-c", script}}}}
	return p, t.TempDir()
}

// TestEngineDeath: an engine that exits, and one whose server goes away
// while its process group's leader lives on, are both reported dead with a
// cause; a stopped engine is not; the group is gone after Stop.
func TestEngineDeath(t *testing.T) {
	for _, c := range []struct {
		name, script string
		dies         bool
		cause        string
	}{
		{"exits", "ENGINE & sleep 1; kill $!; exit 3", true, "exited (exit status 3)"},
		{"server gone, leader alive", "trap '' TERM; ENGINE & sleep 1; kill $!; sleep 300", true, "refuses connections"},
		{"healthy until stopped", "ENGINE", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, dir := childPlan(t, c.script)
			e, err := Start(context.Background(), p, dir, Options{HealthTimeout: 20 * time.Second, StopGrace: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			pgid := e.p.Pid()
			// Death is noticed within healthRefusals probes after the
			// server went; a healthy engine must outlive that window.
			wait := healthEvery*healthRefusals + time.Second
			if c.dies {
				wait += 4 * time.Second
			}
			select {
			case <-e.Died():
				if !c.dies {
					t.Fatalf("reported dead: %s", e.Cause())
				}
				if !strings.Contains(e.Cause(), c.cause) {
					t.Errorf("cause %q, want %q", e.Cause(), c.cause)
				}
			case <-time.After(wait):
				if c.dies {
					t.Fatal("the engine's death was not noticed")
				}
			}
			e.Stop()
			select {
			case <-e.Died():
				if !c.dies {
					t.Error("Stop reported as a death")
				}
			default:
			}
			for i := 0; i < 50 && proc.Alive(pgid); i++ {
				time.Sleep(100 * time.Millisecond)
			}
			if proc.Alive(pgid) {
				t.Errorf("process group %d survived Stop", pgid)
			}
		})
	}
}

// TestStartFailure: an engine that exits before it is healthy is
// explained from its log; a port already taken is refused before anything
// starts.
func TestStartFailure(t *testing.T) {
	p, dir := childPlan(t, "echo 'ValueError: unrecognized arguments: --bogus'; exit 2")
	_, err := Start(context.Background(), p, dir, Options{HealthTimeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "did not start") || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("err = %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p, dir = childPlan(t, "ENGINE")
	p.Engine.Port = l.Addr().(*net.TCPAddr).Port
	if _, err := Start(context.Background(), p, dir, Options{HealthTimeout: 10 * time.Second}); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("a taken port: %v", err)
	}
}
