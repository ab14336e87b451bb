package proc

import (
	"io"
	"sync"
)

// SyncWriter serialises writes to W: os/exec copies a child's stdout and
// stderr in two goroutines, and Forge's own goroutines (the sweep's
// progress, the engine watcher) print to the same streams.
type SyncWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.W.Write(p)
}
