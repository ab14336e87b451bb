package pipeline

import (
	"io"

	"github.com/forge-bench/forge/tools/internal/proc"
)

// Out is where a stage prints: results to Stdout, progress and warnings to
// Stderr (the command line's streams, or a test's buffers).
type Out struct {
	Stdout, Stderr io.Writer
}

// locked returns o with each stream behind a mutex: during a sweep the
// load generator's progress, the engine watcher and the Ctrl-C message
// print from different goroutines, and a test's buffer is not safe for
// that.
func (o Out) locked() Out {
	return Out{Stdout: &proc.SyncWriter{W: orDiscard(o.Stdout)}, Stderr: &proc.SyncWriter{W: orDiscard(o.Stderr)}}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
