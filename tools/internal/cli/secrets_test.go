package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The secrets of these tests: an API key, and a user name and password in
// the base URL. Each is long enough to be unmistakable in a grep.
const (
	testKey      = "sk-forge-test-key-5f1c9a"
	testUser     = "uname-secret-77c3"
	testPassword = "pw-secret-9d2e41"
)

// grepSecrets fails for every file under dir, and every output, holding a
// secret.
func grepSecrets(t *testing.T, dir string, outputs ...string) {
	t.Helper()
	secrets := []string{testKey, testUser, testPassword}
	check := func(where, text string) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q", where, s)
			}
		}
	}
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			check(path, string(b))
		}
		return nil
	})
	for i, o := range outputs {
		check(fmt.Sprintf("output %d", i), o)
	}
}

// TestSecretsNeverLeak: a server that echoes the key in its errors, a base
// URL with credentials, and redirects to another port, scheme and host.
// Afterwards no file under the run directory and nothing printed holds a
// secret, and the redirect target never receives the key.
func TestSecretsNeverLeak(t *testing.T) {
	t.Setenv("FORGE_TEST_SECRET_KEY", testKey)
	var leaked atomic.Int64 // requests with the key at the redirect target
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), testKey) {
			leaked.Add(1)
		}
		http.Error(w, "not here", http.StatusNotFound)
	}))
	defer target.Close()
	tu, _ := url.Parse(target.URL)
	echo := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s (%s)"}}`, strings.TrimPrefix(auth, "Bearer "), auth)
	}
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to+r.URL.Path, http.StatusTemporaryRedirect)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		creds   bool
		reason  string
	}{
		{"echoes the key", echo, false, "HTTP 401: Incorrect API key provided: [REDACTED]"},
		{"echoes URL credentials", echo, true, "HTTP 401"},
		{"redirect to another port", redirect(target.URL), false, "redirect to another origin not followed"},
		{"redirect to another scheme", redirect("https://" + tu.Host), false, "redirect to another origin not followed"},
		{"redirect to another host", redirect("http://localhost:" + tu.Port()), false, "redirect to another origin not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			base := srv.URL
			if tt.creds {
				base = strings.Replace(base, "http://", "http://"+testUser+":"+testPassword+"@", 1)
			}
			out := filepath.Join(t.TempDir(), "run")
			stdout, stderr, err := runErr("bench", "--base-url", base, "--model", "m", "--concurrency", "1", "--num-prompts", "2",
				"--input-tokens", "8", "--output-tokens", "2", "--api-key-env", "FORGE_TEST_SECRET_KEY", "--out", out)
			if err == nil {
				t.Fatal("every request failed, yet forge bench succeeded")
			}
			recs, _ := os.ReadFile(filepath.Join(out, "00-concurrency-1.jsonl"))
			if !strings.Contains(string(recs), tt.reason) {
				t.Errorf("records do not give the reason %q:\n%s", tt.reason, recs)
			}
			grepSecrets(t, out, stdout, stderr, err.Error())
		})
	}
	if n := leaked.Load(); n > 0 {
		t.Errorf("the redirect target received the API key %d time(s)", n)
	}
}
