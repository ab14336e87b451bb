package bench

import (
	"errors"
	"flag"
	"fmt"
	"math"

	"github.com/forge-bench/forge/tools/internal/provenance"
)

// Bounds on what one forge bench may be asked for. They are far above any
// study (the reference sweep peaks at 64 streams and 256 prompts a level)
// and low enough that a typo cannot take the machine: each stream holds a
// connection, a goroutine and its buffers, each prompt its text.
const (
	MaxStreams         = 65536     // concurrent requests: one client address has about 28,000 ephemeral ports per server address
	MaxPromptsPerLevel = 1_000_000 // each prompt is generated and held before the level starts
	MaxRate            = 1e6       // requests/s: beyond any server, and beyond the pacer's clock
)

// Validate checks a configuration before anything is generated or sent:
// every number finite and in range, so that no flag or plan value can hang
// the pacer (a NaN rate), lose records (an infinite one) or start more
// goroutines than there is work.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, l := range cfg.Levels {
		if err := l.check(); err != nil {
			errs = append(errs, err)
		}
	}
	if b := cfg.Burstiness; math.IsNaN(b) || math.IsInf(b, 0) || b < 0 {
		bad("burstiness must be a finite number above 0 (1 = Poisson), got %g", b)
	}
	if cfg.MaxConcurrency < 0 || cfg.MaxConcurrency > MaxStreams {
		bad("max concurrency must be between 0 (no cap) and %d, got %d", MaxStreams, cfg.MaxConcurrency)
	}
	if cfg.MaxDuration < 0 {
		bad("max duration must not be negative (0 = none), got %s", cfg.MaxDuration)
	}
	if cfg.Client.Timeout < 0 {
		bad("the request timeout must not be negative, got %s", cfg.Client.Timeout)
	}
	if n := len(cfg.Prompts); n > MaxPromptsPerLevel {
		bad("%d prompts per level is more than the %d one client holds", n, MaxPromptsPerLevel)
	}
	if err := provenance.CheckBaseURL(cfg.Client.BaseURL); err != nil {
		bad("base URL %v", err)
	}
	if err := cfg.Client.Limits.check(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// check is one level's value in range.
func (l Level) check() error {
	v := l.Value
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0:
		return fmt.Errorf("level %s: the %s must be a finite number above 0", LevelName(l), l.Kind)
	case l.Kind == "concurrency" && (v != math.Trunc(v) || v > MaxStreams):
		return fmt.Errorf("level %s: concurrency must be a whole number of streams up to %d", LevelName(l), MaxStreams)
	case l.Kind == "rate" && v > MaxRate:
		return fmt.Errorf("level %s: a rate above %g requests/s is beyond any server and the pacer's clock", LevelName(l), MaxRate)
	case l.Kind != "concurrency" && l.Kind != "rate":
		return fmt.Errorf("level %d: kind %q is neither concurrency nor rate", l.Index, l.Kind)
	}
	return nil
}

func (l Limits) check() error {
	if l.MaxLineBytes < 0 || l.MaxEventBytes < 0 || l.MaxErrorBodyBytes < 0 || l.MaxChunks < 0 {
		return fmt.Errorf("the stream limits must not be negative (0 = default), got %+v", l)
	}
	return nil
}

// RegisterLimitFlags adds the flags of Limits to fs, shared by every
// command that streams.
func (l *Limits) RegisterLimitFlags(fs *flag.FlagSet) {
	fs.IntVar(&l.MaxLineBytes, "max-line-bytes", DefaultLimits.MaxLineBytes, "fail a request whose stream sends a longer SSE line")
	fs.IntVar(&l.MaxEventBytes, "max-event-bytes", DefaultLimits.MaxEventBytes, "fail a request whose stream sends a larger SSE event")
	fs.IntVar(&l.MaxErrorBodyBytes, "max-error-body-bytes", DefaultLimits.MaxErrorBodyBytes, "read at most this much of an error body")
	fs.IntVar(&l.MaxChunks, "max-chunks", 0, "fail a request whose stream sends more SSE events (0 = 4 × max_tokens + 1024)")
}
