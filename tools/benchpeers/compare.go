package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
)

// result is one client run, measured over the server's load window.
type result struct {
	client         string
	requests       int
	tokens         int64
	windowS        float64
	cpuS           float64
	peakRSSMiB     float64
	server         serverStats
	ttft, itl      []float64 // ms, as the client recorded them
	ttftWithSendMs []float64 // forge: TTFT plus send overhead (vLLM's clock starts before connecting)
}

func (r result) tokPerS() float64  { return float64(r.tokens) / r.windowS }
func (r result) cpuPer1k() float64 { return r.cpuS / float64(r.tokens) * 1000 }
func pct(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return bench.Percentile(s, q)
}

// server is the standalone stub, pinned to its core.
type server struct {
	cmd *exec.Cmd
	url string
}

func startServer(o opts, gap time.Duration) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("taskset", "-c", strconv.Itoa(o.serverCore), self, "serve", "--gap", gap.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server (taskset needed): %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the server did not say its address: %w", err)
	}
	return &server{cmd: cmd, url: "http://" + strings.TrimSpace(line)}, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func (s *server) stats(reset bool) (serverStats, error) {
	u := s.url + "/stats"
	if reset {
		u += "?reset"
	}
	var st serverStats
	resp, err := http.Get(u)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st)
}

// cpuSample is a process's CPU time (utime+stime) at a moment.
type cpuSample struct {
	at  time.Time
	cpu float64
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func procCPU(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which may hold spaces: state is 3rd.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks, true
}

// cpuAt interpolates the sampled CPU time at t.
func cpuAt(s []cpuSample, t time.Time) float64 {
	if len(s) == 0 {
		return 0
	}
	if !t.After(s[0].at) {
		return s[0].cpu
	}
	for i := 1; i < len(s); i++ {
		if !t.After(s[i].at) {
			a, b := s[i-1], s[i]
			f := float64(t.Sub(a.at)) / float64(b.at.Sub(a.at))
			return a.cpu + (b.cpu-a.cpu)*f
		}
	}
	return s[len(s)-1].cpu
}

// runClient runs one client command pinned to the client core, sampling
// its CPU time, and measures it over the server's load window.
func runClient(ctx context.Context, o opts, srv *server, name string, args []string, requests int, logPath string) (result, error) {
	r := result{client: name, requests: requests}
	if _, err := srv.stats(true); err != nil {
		return r, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return r, err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, "taskset", append([]string{"-c", strconv.Itoa(o.clientCore)}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "TOKENIZERS_PARALLELISM=false")
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return r, err
	}
	pid := cmd.Process.Pid
	var samples []cpuSample
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var werr error
wait:
	for {
		select {
		case werr = <-done:
			break wait
		case <-tick.C:
			if c, ok := procCPU(pid); ok {
				samples = append(samples, cpuSample{time.Now(), c})
			}
		}
	}
	if werr != nil {
		return r, fmt.Errorf("%s failed (%v); its output is in %s", name, werr, logPath)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.peakRSSMiB = float64(ru.Maxrss) / 1024
		samples = append(samples, cpuSample{time.Now(), timeval(ru.Utime) + timeval(ru.Stime)})
	}
	st, err := srv.stats(false)
	if err != nil {
		return r, err
	}
	if st.Requests < int64(requests) || st.FirstArrival == 0 {
		return r, fmt.Errorf("%s: the server saw %d of %d requests; its output is in %s", name, st.Requests, requests, logPath)
	}
	from, to := time.Unix(0, st.FirstArrival), time.Unix(0, st.LastEnd)
	r.tokens, r.windowS, r.server = st.Tokens, to.Sub(from).Seconds(), st
	r.cpuS = cpuAt(samples, to) - cpuAt(samples, from)
	return r, nil
}

func timeval(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// forgeLatencies reads forge bench's records past the first skip requests:
// TTFT, TTFT plus send overhead, and every ITL.
func forgeLatencies(dir string, skip int, r *result) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 1 {
		return fmt.Errorf("forge bench wrote %d record files in %s, want 1", len(files), dir)
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	for {
		var rec bench.Record
		if err := dec.Decode(&rec); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if rec.Status != "ok" {
			return fmt.Errorf("forge bench: request %d failed: %s", rec.RequestIndex, rec.Error)
		}
		if rec.RequestIndex < skip { // the first wave: the server accepts every connection at once
			continue
		}
		r.ttft = append(r.ttft, *rec.TTFTMs)
		r.ttftWithSendMs = append(r.ttftWithSendMs, *rec.TTFTMs+rec.SendOverheadMs)
		if len(rec.ITLMs) > 1 { // the first gap holds the server's phase (server.go)
			r.itl = append(r.itl, rec.ITLMs[1:]...)
		}
	}
}

// vllmLatencies reads vllm bench serve's --save-detailed result (seconds).
func vllmLatencies(path string, skip int, r *result) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d struct {
		Completed int         `json:"completed"`
		TTFTs     []float64   `json:"ttfts"`
		ITLs      [][]float64 `json:"itls"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if d.Completed != r.requests {
		return fmt.Errorf("vllm bench serve completed %d of %d requests (%s)", d.Completed, r.requests, path)
	}
	// Its lists are in request order; the first wave is left out as for forge.
	for _, t := range d.TTFTs[min(skip, len(d.TTFTs)):] {
		r.ttft = append(r.ttft, t*1e3)
	}
	for _, l := range d.ITLs[min(skip, len(d.ITLs)):] {
		for i, t := range l {
			if i > 0 { // the first gap holds the server's phase (server.go)
				r.itl = append(r.itl, t*1e3)
			}
		}
	}
	return nil
}
