package scrape

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary exposition text through Parse, Diff and
// Quantile: none may panic, and every View must encode as JSON.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"vllm-0.11-before.txt", "vllm-0.6-old-names.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(counterText(3, 2, 1)))
	f.Add([]byte("# TYPE vllm:h histogram\nvllm:h_bucket{le=\"1\"} 1e308\nvllm:h_bucket{le=\"+Inf\"} NaN\nvllm:h_count 2\n"))
	f.Add([]byte("# TYPE vllm:s summary\nvllm:s{quantile=\"0.5\"} 1\nvllm:s_sum -Inf\nvllm:s_count 3\n"))
	f.Add([]byte("{\"vllm:utf8.name\"} 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(bytes.NewReader(data), time.Unix(0, 0))
		if err != nil {
			return
		}
		later := Snapshot{At: s.At.Add(time.Second), Families: s.Families}
		for _, v := range []View{Diff(s, later, nil), Diff(Snapshot{}, later, []Snapshot{s}), Diff(later, s, nil)} {
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("View does not encode: %v", err)
			}
			for _, h := range v.Histograms {
				for _, q := range []float64{0, 0.5, 0.99, 1} {
					h.Quantile(q)
				}
			}
		}
	})
}
