package pipeline

import (
	"io"
	"os"

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
	return Out{Stdout: syncWriter(o.Stdout), Stderr: syncWriter(o.Stderr)}
}

// syncWriter wraps w unless it is a file: a write to a file is one system
// call already, and the load generator's progress line needs the file to
// see that it is a terminal and redraw in place.
func syncWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return &proc.SyncWriter{W: orDiscard(w)}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
