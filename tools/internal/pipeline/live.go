package pipeline

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
)

// LiveMetrics is a running --metrics-addr endpoint; nil when the flag is
// not given, and then every method is a no-op.
type LiveMetrics struct {
	exporter *bench.Exporter
	stop     func()
	linger   time.Duration
}

// StartLiveMetrics serves a new exporter at addr and announces it on w in
// one line; nil (every method a no-op) when addr is empty. The endpoint
// outlives the first Ctrl-C (ctx), so that the last level's graceful end is
// still counted; Finish or Close ends it. A negative linger, or a linger
// without an address, is refused (the message names the flags).
func StartLiveMetrics(ctx context.Context, w io.Writer, cmd, addr string, linger time.Duration) (*LiveMetrics, error) {
	switch {
	case linger < 0:
		return nil, fmt.Errorf("--metrics-linger must not be negative, got %s", linger)
	case addr == "" && linger > 0:
		return nil, fmt.Errorf("--metrics-linger needs --metrics-addr")
	case addr == "":
		return nil, nil
	}
	e := bench.NewExporter()
	bound, stop, err := bench.ServeMetrics(context.WithoutCancel(ctx), addr, e)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: cannot listen there: %v", addr, err)
	}
	note := ""
	if linger > 0 {
		note = fmt.Sprintf(", kept %s after the last level", linger)
	}
	fmt.Fprintf(w, "%s: Forge's own metrics at http://%s/metrics (Prometheus text%s)\n", cmd, bound, note)
	return &LiveMetrics{exporter: e, stop: stop, linger: linger}, nil
}

// Exporter is what bench.Config.Exporter should hold (nil: no live metrics).
func (lm *LiveMetrics) Exporter() *bench.Exporter {
	if lm == nil {
		return nil
	}
	return lm.exporter
}

// Finish keeps serving for --metrics-linger, so that Prometheus takes a
// final scrape, then closes the endpoint. ctx ending (Ctrl-C) cuts the
// wait short.
func (lm *LiveMetrics) Finish(ctx context.Context) {
	if lm == nil {
		return
	}
	if lm.linger > 0 && ctx.Err() == nil {
		t := time.NewTimer(lm.linger)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	lm.stop()
}

// Close ends the endpoint at once; after finish it does nothing.
func (lm *LiveMetrics) Close() {
	if lm != nil {
		lm.stop()
	}
}
