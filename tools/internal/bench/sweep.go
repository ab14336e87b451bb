package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/scrape"
)

// Config is a whole benchmark: the target, the request sequence, the levels.
type Config struct {
	Client         ClientConfig
	RunID          string
	Experiment     string
	Levels         []Level
	Prompts        []Prompt
	Warmup         []Prompt
	Burstiness     float64
	MaxConcurrency int
	MaxDuration    time.Duration
	Seed           uint64
	SLO            SLO
	Counter        Counter
	TokenSource    string // how prompt lengths were counted
	DatasetSHA256  string
	SequenceSHA256 string
	Declared       provenance.Declared
	ScrapeInterval time.Duration // 0: before/after only
	NoScrape       bool
	Out            string
	Progress       io.Writer // nil: silent
	Exporter       *Exporter // nil: no live metrics
	// Search, when set, replaces Levels: find-max probes levels until it
	// has the highest load meeting the SLO (FindMax).
	Search *Search

	// wrapRecords, set only by tests, wraps each level's JSONL file to
	// inject write failures (a full disk) without filling one.
	wrapRecords func(io.Writer) io.Writer
}

// GCPercent is the garbage collector's target during a run. Streams
// allocate little that lives long, so collecting less often trades a few
// MB of heap for fewer pauses in the middle of timing a token.
const GCPercent = 400

// memoryTarget is the heap a run aims to stay under: 48 MiB plus 48 KiB
// per stream it can have in flight (a stream's goroutines, connection
// buffers and timeline take about 30 KiB). GCPercent alone would let the
// heap grow to five times what is live; this soft limit makes the
// collector run sooner instead, so peak memory follows the streams, as the
// tally and the batched writer make what is live follow them (issue 19:
// 64 MiB + 64 KiB per stream of resident memory, heap and runtime together).
func memoryTarget(cfg Config) int64 {
	streams := cfg.MaxConcurrency
	for _, l := range cfg.Levels {
		if l.Kind == "concurrency" {
			streams = max(streams, int(l.Value))
		}
	}
	if s := cfg.Search; s != nil && s.Kind == "concurrency" {
		streams = max(streams, int(min(s.Max, MaxStreams)))
	}
	if streams == 0 { // an uncapped open loop: as many as the rate and latency make
		streams = 1024
	}
	return 48<<20 + int64(min(streams, MaxStreams))*48<<10
}

// A level's files: <LevelName><RecordsExt> and <LevelName><SummaryExt>.
const (
	RecordsExt = ".jsonl"
	SummaryExt = ".summary.json"
)

// LevelName is the file stem of a level: index first so files sort in run order.
func LevelName(l Level) string {
	return fmt.Sprintf("%02d-%s-%s", l.Index, l.Kind, strconv.FormatFloat(l.Value, 'f', -1, 64))
}

// Run runs every level in order, writing <level>.jsonl (records, streamed)
// and <level>.summary.json under Out. A cancelled context ends the current
// level gracefully (its summary is written, marked incomplete) and skips
// the rest. Summaries that fail their schema are still written, and the
// failure returned, so nothing measured is lost. A record that cannot be
// written (a full disk) stops the level at once and the sweep with it:
// the error says how many completed records were not written, and the
// level gets no summary, since one would claim records its JSONL lacks.
func Run(ctx context.Context, cfg Config) ([]Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryTarget(cfg)))
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	c := NewClient(cfg.Client)
	if cfg.Progress != nil { // a message may quote the base URL, credentials and all
		cfg.Progress = redactingWriter{cfg.Progress, c.redact}
	}
	prov := provenance.Discover(ctx, c.http, cfg.Client.BaseURL, cfg.Client.Model, cfg.Declared)
	if cfg.DatasetSHA256 != "" {
		prov.DatasetSHA256 = &cfg.DatasetSHA256
	}
	if cfg.SequenceSHA256 != "" {
		prov.RequestSequenceSHA256 = &cfg.SequenceSHA256
	}
	metricsURL := provenance.ServerURL(cfg.Client.BaseURL) + "/metrics"
	scale := 1.0
	if k := prov.TimeScale; k != nil && *k > 0 {
		scale = *k
	}
	cfg.Exporter.start(cfg, scale)
	if cfg.Search != nil {
		res, sums, err := FindMax(ctx, *cfg.Search, 0, func(ctx context.Context, lvl Level) (Summary, error) {
			s, err := runOne(ctx, c, cfg, lvl, prov, metricsURL)
			if s == nil {
				return Summary{}, cmp.Or(err, ctx.Err())
			}
			return *s, err
		})
		progressf(cfg.Progress, "%s\n", res.Statement(*cfg.Search))
		return sums, err
	}
	var out []Summary
	for _, lvl := range cfg.Levels {
		if ctx.Err() != nil {
			break
		}
		s, err := runOne(ctx, c, cfg, lvl, prov, metricsURL)
		if s != nil {
			out = append(out, *s)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func runOne(ctx context.Context, c *Client, cfg Config, lvl Level, prov provenance.Record, metricsURL string) (*Summary, error) {
	stem := filepath.Join(cfg.Out, LevelName(lvl))
	spec := LevelSpec{Level: lvl, RunID: cfg.RunID, Prompts: cfg.Prompts, Warmup: cfg.Warmup, Burstiness: cfg.Burstiness,
		MaxConcurrency: cfg.MaxConcurrency, MaxDuration: cfg.MaxDuration, Seed: cfg.Seed + uint64(lvl.Index), Counter: cfg.Counter, Exporter: cfg.Exporter}
	// Warm up before the first scrape, so the server's counters cover
	// exactly the measured requests.
	if err := Warmup(ctx, c, spec); err != nil {
		return nil, fmt.Errorf("level %s: %w", LevelName(lvl), err)
	}
	// Created after warmup, so a level that never starts leaves no file.
	rf, err := createRecords(stem+RecordsExt, cfg.wrapRecords)
	if err != nil {
		return nil, fmt.Errorf("level %s: %w", LevelName(lvl), err)
	}
	var before scrape.Snapshot
	var sampler *scrape.Sampler
	scraped := false
	if !cfg.NoScrape {
		if before, err = scrape.Fetch(ctx, c.http, metricsURL); err == nil {
			scraped = true
			if cfg.ScrapeInterval > 0 {
				sampler = scrape.StartSampler(ctx, c.http, metricsURL, cfg.ScrapeInterval)
			}
		} else {
			progressf(cfg.Progress, "level %s: no server metrics (%v); continuing without them\n", LevelName(lvl), err)
		}
	}
	cfg.Exporter.startLevel(lvl)
	prog := startProgress(cfg.Progress, LevelName(lvl), len(cfg.Prompts))
	spec.Flush = rf.flush
	lr, runErr := RunLevel(ctx, c, spec, func(r Record) error {
		prog.add(r)
		return rf.write(r)
	})
	prog.stop()
	cfg.Exporter.endLevel(lr.End)
	// The only error RunLevel returns is the sink's, and close reports it
	// again with what survived it, or a failure of the final fsync.
	if kept, err := rf.close(); err != nil {
		if sampler != nil {
			sampler.Stop()
		}
		return nil, fmt.Errorf("level %s: writing records failed after %d of %d: %w; %d record(s) not written",
			LevelName(lvl), kept, lr.Tally.Records, err, lr.Tally.Records-kept)
	} else if runErr != nil {
		return nil, fmt.Errorf("level %s: %w", LevelName(lvl), runErr)
	}
	s := lr.Summarize(cfg.RunID, cfg.Experiment, cfg.SLO, prov)
	s.API, s.TokenSource = cfg.Client.API, cfg.TokenSource
	if scraped {
		var samples []scrape.Snapshot
		if sampler != nil {
			samples, _ = sampler.Stop()
		}
		after, err := scrape.Fetch(context.WithoutCancel(ctx), c.http, metricsURL)
		if err == nil {
			view := scrape.Diff(before, after, samples)
			s.Server = &view
		}
	}
	data, err := EncodeSummary(s)
	if err != nil {
		return &s, err
	}
	if err := writeAtomic(stem+SummaryExt, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return &s, fmt.Errorf("level %s: %w", LevelName(lvl), err)
	}
	if findings, err := schemas.ValidateJSON(schemas.BenchSummary, data); err != nil || len(findings) > 0 {
		return &s, fmt.Errorf("internal error: %s.summary.json does not match its schema: %v %v", stem, findings, err)
	}
	progressf(cfg.Progress, "level %s: %d ok, %d failed, %.1f output tok/s, TTFT p50 %s ms%s\n", LevelName(lvl), s.Completed, s.Failed,
		s.OutputThroughput, FormatMs(s.TTFT.P50), map[bool]string{true: " (incomplete)", false: ""}[s.Incomplete])
	return &s, nil
}

// FormatMs renders an optional millisecond figure with one decimal, "-" for none.
func FormatMs(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// redactingWriter removes the target's secrets from each write; progress
// lines are written whole, one write each.
type redactingWriter struct {
	w io.Writer
	r provenance.Redactor
}

func (rw redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// progress shows level, done/total and live output tokens/s: a redrawn line
// on a terminal, a plain line every 5 s otherwise.
type progress struct {
	w             io.Writer
	tty           bool
	name          string
	total         int
	done, failed  atomic.Int64
	tokens        atomic.Int64
	start         time.Time
	quit, stopped chan struct{}
}

func startProgress(w io.Writer, name string, total int) *progress {
	p := &progress{w: w, name: name, total: total, start: time.Now(), quit: make(chan struct{}), stopped: make(chan struct{})}
	if w == nil {
		close(p.stopped)
		return p
	}
	f, ok := w.(*os.File)
	if r, isR := w.(redactingWriter); isR {
		f, ok = r.w.(*os.File)
	}
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.quit:
				if p.tty {
					p.draw()
					fmt.Fprintln(p.w)
				}
				return
			}
		}
	}()
	return p
}

func (p *progress) add(r Record) {
	p.done.Add(1)
	if r.Status != "ok" {
		p.failed.Add(1)
	}
	p.tokens.Add(int64(r.OutputTokens))
}

func (p *progress) draw() {
	el := time.Since(p.start).Seconds()
	line := fmt.Sprintf("level %s: %d/%d done, %d failed, %.0f tok/s", p.name, p.done.Load(), p.total, p.failed.Load(), float64(p.tokens.Load())/max(el, 1e-9))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) stop() {
	if p.w != nil {
		close(p.quit)
	}
	<-p.stopped
}
