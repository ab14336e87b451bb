package bench

import "sync/atomic"

// inFlight counts this process's measured and warmup requests in flight,
// for the first Ctrl-C's "stopping: N in flight" line.
var inFlight atomic.Int64

// InFlight is how many requests this process has in flight now.
func InFlight() int { return int(inFlight.Load()) }
