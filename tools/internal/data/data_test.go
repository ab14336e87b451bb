package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestResolve(t *testing.T) {
	content := []byte("hello dataset\n")
	want := sum(content)
	seed := t.TempDir()
	if err := os.MkdirAll(filepath.Join(seed, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seed, "x", "d.json"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	wrongSeed := t.TempDir()
	_ = os.MkdirAll(filepath.Join(wrongSeed, "x"), 0o755)
	_ = os.WriteFile(filepath.Join(wrongSeed, "x", "d.json"), []byte("tampered"), 0o644)
	downloads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downloads++
		switch r.URL.Path {
		case "/bad":
			_, _ = w.Write([]byte("other"))
			return
		case "/missing":
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(content)
	}))
	defer srv.Close()
	tests := []struct {
		name      string
		opts      Options
		url       string
		wantErr   string
		downloads int
	}{
		{"from seed", Options{Seeds: []string{wrongSeed, seed}, Offline: true}, "", "", 0},
		{"download when no seed has it", Options{Seeds: []string{wrongSeed}}, srv.URL + "/ok", "", 1},
		{"download with the wrong hash", Options{Seeds: []string{}}, srv.URL + "/bad", "sha256 mismatch", 1},
		{"offline and missing", Options{Seeds: []string{wrongSeed}, Offline: true}, "", "rejected", 0},
		{"fallback after the pin fails", Options{Seeds: []string{}, Fallback: []string{seed}}, srv.URL + "/missing", "", 1},
		{"the pin before the fallback", Options{Seeds: []string{}, Fallback: []string{wrongSeed}}, srv.URL + "/ok", "", 1},
		{"fallback with another file", Options{Seeds: []string{}, Fallback: []string{wrongSeed}}, srv.URL + "/missing", "HTTP 404", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			downloads = 0
			tt.opts.CacheDir = t.TempDir()
			f := File{SHA256: want, Path: "x/d.json", URL: tt.url}
			path, err := Resolve(context.Background(), f, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(filepath.Join(tt.opts.CacheDir, "sha256", want)); len(entries) != 0 {
					t.Errorf("cache keeps a bad file: %v", entries)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := FileSHA256(path); got != want {
				t.Errorf("resolved file hash %s", got)
			}
			if downloads != tt.downloads {
				t.Errorf("downloads = %d, want %d", downloads, tt.downloads)
			}
			// A second resolve is served from the cache.
			downloads = 0
			if _, err := Resolve(context.Background(), f, Options{CacheDir: tt.opts.CacheDir, Seeds: []string{}, Offline: true}); err != nil || downloads != 0 {
				t.Errorf("cached resolve: %v, %d downloads", err, downloads)
			}
		})
	}
}
