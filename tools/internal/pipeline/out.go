package pipeline

import "io"

// Out is where a stage prints: results to Stdout, progress and warnings to
// Stderr (the command line's streams, or a test's buffers).
type Out struct {
	Stdout, Stderr io.Writer
}
