package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/twin"
)

// Twin is the embedded engine model of vLLM serving one plan over HTTP,
// in this process.
type Twin struct {
	Addr string // where it listens, host:port
	hs   *http.Server
	run  *twin.Runner
	l    net.Listener
}

// TwinOptions are the twin's knobs that are not in the plan.
type TwinOptions struct {
	TimeScale float64 // modelled seconds per wall second
	Faults    twin.Faults
	Seed      int64
	// AnyPort: when addr's port is taken, listen on a free loopback port
	// instead. An in-process twin's port is only a default, and a run must
	// not fail (or, worse, measure someone else's server) because another
	// program holds it.
	AnyPort bool
}

// ErrNotLoopback is returned for a twin address off the loopback interface.
var ErrNotLoopback = errors.New("the twin listens on loopback only (127.0.0.1)")

// NewTwin builds the twin for a plan, listening on addr.
func NewTwin(p *plan.Plan, addr string, o TwinOptions) (*Twin, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s: %w", addr, ErrNotLoopback)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil && o.AnyPort {
		l, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	if err != nil {
		return nil, fmt.Errorf("twin: %w (is another server on that port?)", err)
	}
	run := twin.NewRunner(twin.ConfigFromPlan(p, twin.DefaultEfficiency), o.TimeScale)
	srv := twin.NewServer(run, twin.ServerConfig{Model: p.Model.ServedName, Root: p.Model.Repo, VLLMVersion: cmp.Or(p.Engine.Version, "0.11.0"),
		ForgeVersion: buildinfo.Version, Seed: o.Seed, Faults: o.Faults})
	return &Twin{Addr: l.Addr().String(), hs: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}, run: run, l: l}, nil
}

// Serve runs the twin until ctx ends, then shuts it down.
func (t *Twin) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go t.run.Run(ctx)
	errc := make(chan error, 1)
	go func() { errc <- t.hs.Serve(t.l) }()
	select {
	case <-ctx.Done():
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = t.hs.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
