package data

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTreeSHA256 checks the identity against a listing built here by hand,
// as `sha256sum` prints it, sorted bytewise by path.
func TestTreeSHA256(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
	}{
		{"one file", map[string]string{"config.json": "{}"}},
		{"nested, sorted bytewise", map[string]string{"b.txt": "b", "a/z.txt": "z", "B.txt": "B", "a.txt": ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var names []string
			for name, content := range c.files {
				writeFile(t, filepath.Join(dir, name), content)
				names = append(names, name)
			}
			// bytewise order: "B.txt" < "a.txt" < "a/z.txt" < "b.txt"
			sorted := map[string][]string{
				"one file":                {"config.json"},
				"nested, sorted bytewise": {"B.txt", "a.txt", "a/z.txt", "b.txt"},
			}[c.name]
			if len(sorted) != len(names) {
				t.Fatalf("test table: %v vs %v", sorted, names)
			}
			var listing strings.Builder
			for _, name := range sorted {
				fmt.Fprintf(&listing, "%s  %s\n", sum([]byte(c.files[name])), name)
			}
			got, err := TreeSHA256(dir)
			if err != nil {
				t.Fatal(err)
			}
			if want := sum([]byte(listing.String())); got != want {
				t.Errorf("TreeSHA256 = %s, want %s (listing %q)", got, want, listing.String())
			}
		})
	}
	t.Run("empty directory", func(t *testing.T) {
		if _, err := TreeSHA256(t.TempDir()); err == nil {
			t.Error("an empty directory has an identity")
		}
	})
	t.Run("symlink refused", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a"), "a")
		if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
			t.Skip(err)
		}
		if _, err := TreeSHA256(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("err = %v, want a refusal of the link", err)
		}
	})
}

// TestResolveTree copies a seeded directory into the cache only when its
// tree identity is the pinned one, and serves it from the cache afterwards.
func TestResolveTree(t *testing.T) {
	seed := t.TempDir()
	writeFile(t, filepath.Join(seed, "mmlu", "dev", "a_dev.csv"), "q,A,B,C,D,A\n")
	writeFile(t, filepath.Join(seed, "mmlu", "test", "a_test.csv"), "q2,A,B,C,D,B\n")
	want, err := TreeSHA256(filepath.Join(seed, "mmlu"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		sha     string
		seeds   []string
		wantErr string
	}{
		{"seeded", want, []string{seed}, ""},
		{"wrong pin", sum([]byte("x")), []string{seed}, "tree sha256 mismatch"},
		{"no seed", want, []string{t.TempDir()}, "is not in"},
		{"bad pin", "abc", []string{seed}, "not 64 hex"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			got, err := ResolveTree(context.Background(), File{SHA256: c.sha, Path: "mmlu"}, Options{CacheDir: cache, Seeds: c.seeds})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sum, _ := TreeSHA256(got); sum != want {
				t.Fatalf("cached tree %s has sha %s, want %s", got, sum, want)
			}
			// A second resolve is served from the cache, even without seeds.
			again, err := ResolveTree(context.Background(), File{SHA256: c.sha, Path: "mmlu"}, Options{CacheDir: cache, Seeds: []string{}})
			if err != nil || again != got {
				t.Fatalf("cached resolve = %q, %v; want %q", again, err, got)
			}
		})
	}
}
