package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseLevels reads --concurrency 1,4,16 or --rate 2,8 into levels, the
// list ascending without repeats.
func ParseLevels(conc, rate string) ([]Level, error) {
	var out []Level
	for _, part := range []struct{ kind, list string }{{"concurrency", conc}, {"rate", rate}} {
		if part.list == "" {
			continue
		}
		prev := 0.0
		for _, s := range strings.Split(part.list, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || !(v > 0) || (part.kind == "concurrency" && v != math.Trunc(v)) {
				return nil, fmt.Errorf("--%s: %q is not a positive %s", part.kind, s, map[string]string{"concurrency": "integer", "rate": "number"}[part.kind])
			}
			if err := (Level{Kind: part.kind, Value: v, Index: len(out)}).check(); err != nil {
				return nil, fmt.Errorf("--%s: %w", part.kind, err)
			}
			if v <= prev {
				return nil, fmt.Errorf("--%s must be ascending without repeats, got %s", part.kind, part.list)
			}
			prev = v
			out = append(out, Level{Kind: part.kind, Value: v, Index: len(out)})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("give --concurrency or --rate levels")
	}
	if conc != "" && rate != "" {
		return nil, fmt.Errorf("give --concurrency (closed loop) or --rate (open loop), not both: a sweep is one load curve")
	}
	return out, nil
}

// ParseSLO reads ttft_p99_ms=2000,tpot_p99_ms=100 (the experiment's names)
// or ttft_ms=2000 into per-request thresholds keyed ttft_ms, tpot_ms, …
func ParseSLO(s string) (SLO, error) {
	out := SLO{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		x, err := strconv.ParseFloat(v, 64)
		key := strings.Replace(k, "_p99_ms", "_ms", 1)
		if !ok || err != nil || x <= 0 || !map[string]bool{"ttft_ms": true, "tpot_ms": true, "itl_ms": true, "e2el_ms": true}[key] {
			return nil, fmt.Errorf("--slo: %q: want name=milliseconds with name one of ttft_p99_ms, tpot_p99_ms, itl_p99_ms, e2el_p99_ms", kv)
		}
		out[key] = x
	}
	return out, nil
}
