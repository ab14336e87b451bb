package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzBenchArgs feeds arbitrary command lines (one argument per line)
// through forge bench's flag parsing and checks, up to the configuration
// it would run (nothing is sent): no panic; every refusal is an ExitError
// with a message; and a configuration that is accepted passes the bounds
// bench.Run holds it to. Prompts are generated, so counts stay small.
func FuzzBenchArgs(f *testing.F) {
	for _, seed := range []string{
		"--base-url\nhttp://127.0.0.1:9\n--model\nm\n--concurrency\n1,4\n--num-prompts\n3\n--out\nOUT",
		"--base-url\nhttp://127.0.0.1:9\n--model\nm\n--rate\nNaN\n--out\nOUT",
		"--base-url\nftp://x\n--model\nm\n--rate\n2\n--burstiness\n-1\n--out\nOUT",
		"--base-url\nhttp://u:p@127.0.0.1:9\n--model\nm\n--concurrency\n30000000\n--out\nOUT",
		"--base-url\nhttp://[::1\n--model\nm\n--concurrency\n1\n--max-duration\n-5s\n--out\nOUT",
		"--base-url\nhttp://127.0.0.1:9\n--model\nm\n--concurrency\n1,64\n--find-max\n--slo\nttft_p99_ms=100\n--out\nOUT",
		"--plan\n/nonexistent\n--out\nOUT",
		"--base-url\nhttp://127.0.0.1:9\n--model\nm\n--rate\n2\n--max-chunks\n-1\n--max-line-bytes\n0\n--run-id\n../x\n--out\nOUT",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\n")
		for i, a := range args {
			if a == "OUT" {
				args[i] = t.TempDir()
			}
			// Generating a million prompts is allowed, and slow: keep the
			// fuzzer on the parsing, not on generation.
			if (a == "--num-prompts" || a == "-num-prompts" || a == "--warmup" || a == "-warmup") && i+1 < len(args) && len(args[i+1]) > 3 {
				return
			}
		}
		var out, errb bytes.Buffer
		cfg, _, err := benchArgs(context.Background(), Env{Stdout: &out, Stderr: &errb}, args)
		if err != nil {
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Msg == "" && ee.Code != ExitUsage {
				t.Fatalf("%q: an error that is not a usage or validation error with a message: %#v", args, err)
			}
			return
		}
		if verr := cfg.Validate(); verr != nil {
			t.Fatalf("%q: accepted, but bench.Run would refuse it: %v", args, verr)
		}
	})
}
