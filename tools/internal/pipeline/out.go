package pipeline

import (
	"io"
	"sync"
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
	return Out{Stdout: &lockedWriter{w: orDiscard(o.Stdout)}, Stderr: &lockedWriter{w: orDiscard(o.Stderr)}}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
