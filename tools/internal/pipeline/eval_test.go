package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCountIn: lm-eval's truncation warnings are counted in a log of any
// line length, including one cut by the read buffer.
func TestCountIn(t *testing.T) {
	const w = "WARNING Context length (5000) > max_length (4095). Left truncating context."
	bar := "\r" + strings.Repeat("Requesting API: 50%|#####     |\r", 10000) // one 300 kB "line"
	tests := []struct {
		name, log string
		want      int
	}{
		{"none", "INFO all fine\n" + bar, 0},
		{"two", w + "\n" + bar + w + "\n", 2},
		{"cut by the 64 KiB read", strings.Repeat("x", 64<<10-10) + w + "\n" + w, 2},
		{"back to back", w + w + w, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "lm-eval.log")
			if err := os.WriteFile(p, []byte(tt.log), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := countIn(p, "Left truncating context")
			if err != nil || got != tt.want {
				t.Fatalf("countIn = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
