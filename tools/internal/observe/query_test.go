package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// promTarget is one active target as /api/v1/targets lists it.
type promTarget struct {
	job, url, health, lastError string
}

// fakeProm emulates the two endpoints of Prometheus's HTTP API the package
// uses: /api/v1/query answers each query with its canned reply (a vector
// of one sample 1 when it has none) and /api/v1/targets lists the targets
// targets returns for the n-th poll (0 first).
type fakeProm struct {
	replies    map[string]reply
	targets    func(poll int) []promTarget
	rejectPost bool // answer POST with 405, as some proxies do: the client falls back to GET

	mu      sync.Mutex
	queries []string // the query field of each /api/v1/query request, in order
	times   []string // its time field
	ranges  []string // "start end step" of each /api/v1/query_range request
	methods []string
	polls   int
}

// reply is an HTTP status and the JSON envelope's data (status success)
// or, for an error, the whole envelope.
type reply struct {
	code int
	body string
}

func success(data string) reply {
	return reply{http.StatusOK, `{"status":"success","data":` + data + `}`}
}

func vector(samples ...string) string {
	var parts []string
	for i, v := range samples {
		parts = append(parts, fmt.Sprintf(`{"metric":{"__name__":"m","instance":"i%d"},"value":[1700000000.25,%q]}`, i, v))
	}
	return `{"resultType":"vector","result":[` + strings.Join(parts, ",") + `]}`
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v1/query", "/api/v1/query_range":
		if f.rejectPost && r.Method == http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil { // the form of a POST body or a GET URL
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, err.Error())
			return
		}
		q := r.Form.Get("query")
		f.mu.Lock()
		f.queries = append(f.queries, q)
		f.times = append(f.times, r.Form.Get("time"))
		if r.URL.Path == "/api/v1/query_range" {
			f.ranges = append(f.ranges, r.Form.Get("start")+" "+r.Form.Get("end")+" "+r.Form.Get("step"))
		}
		f.methods = append(f.methods, r.Method)
		f.mu.Unlock()
		rep, ok := f.replies[q]
		if !ok {
			rep = success(vector("1"))
		}
		w.WriteHeader(rep.code)
		fmt.Fprint(w, rep.body)
	case "/api/v1/targets":
		f.mu.Lock()
		poll := f.polls
		f.polls++
		f.mu.Unlock()
		type active struct {
			DiscoveredLabels   map[string]string `json:"discoveredLabels"`
			Labels             map[string]string `json:"labels"`
			ScrapePool         string            `json:"scrapePool"`
			ScrapeURL          string            `json:"scrapeUrl"`
			GlobalURL          string            `json:"globalUrl"`
			LastError          string            `json:"lastError"`
			LastScrape         string            `json:"lastScrape"`
			LastScrapeDuration float64           `json:"lastScrapeDuration"`
			Health             string            `json:"health"`
			ScrapeInterval     string            `json:"scrapeInterval"`
			ScrapeTimeout      string            `json:"scrapeTimeout"`
		}
		var list []active
		for _, t := range f.targets(poll) {
			host := strings.TrimSuffix(strings.TrimPrefix(t.url, "http://"), "/metrics")
			last := "2026-05-25T10:00:00.123456789Z"
			if t.health == "unknown" {
				last = "0001-01-01T00:00:00Z"
			}
			list = append(list, active{
				DiscoveredLabels: map[string]string{"__address__": host, "job": t.job},
				Labels:           map[string]string{"instance": host, "job": t.job},
				ScrapePool:       t.job, ScrapeURL: t.url, GlobalURL: t.url, LastError: t.lastError,
				LastScrape: last, LastScrapeDuration: 0.004, Health: t.health, ScrapeInterval: "5s", ScrapeTimeout: "5s",
			})
		}
		if list == nil {
			list = []active{}
		}
		b, err := json.Marshal(map[string]any{"status": "success",
			"data": map[string]any{"activeTargets": list, "droppedTargets": []any{}}})
		if err != nil {
			panic(err)
		}
		_, _ = w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeProm) start(t *testing.T) *Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeProm) received() (queries, times, methods []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queries), slices.Clone(f.times), slices.Clone(f.methods)
}

// onePanel is a dashboard with one panel running expr.
func onePanel(expr string) Dashboard {
	return Dashboard{Panels: []GPanel{{ID: 7, Type: "timeseries", Title: "P", Targets: []GTarget{{RefID: "A", Expr: expr}}}}}
}

func TestRunQueriesResults(t *testing.T) {
	badData := reply{http.StatusBadRequest,
		`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected end of input"}`}
	cases := []struct {
		name   string
		reply  reply
		ok     bool
		series int
		value  float64 // NaN: none
		err    string  // substring of Err; "" = none
	}{
		{"one sample", success(vector("3.5")), true, 1, 3.5, ""},
		{"first finite value", success(vector("NaN", "+Inf", "2")), true, 3, 2, ""},
		{"empty vector", success(vector()), false, 0, math.NaN(), ""},
		{"NaN", success(vector("NaN")), false, 1, math.NaN(), ""},
		{"+Inf", success(vector("+Inf")), false, 1, math.NaN(), ""},
		{"-Inf", success(vector("-Inf")), false, 1, math.NaN(), ""},
		{"bad_data", badData, false, 0, math.NaN(), "parse error: unexpected end of input"},
		{"scalar", success(`{"resultType":"scalar","result":[1700000000.25,"2.5"]}`), true, 1, 2.5, ""},
		{"scalar +Inf", success(`{"resultType":"scalar","result":[1700000000.25,"+Inf"]}`), false, 1, math.NaN(), ""},
		{"matrix: +Inf last", success(`{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[[1700000000,"1"],[1700000005,"+Inf"]]}]}`), false, 1, math.NaN(), ""},
		{"matrix: last value", success(`{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[[1700000000,"1"],[1700000005,"4"]]}]}`), true, 1, 4, ""},
	}
	f := &fakeProm{replies: map[string]reply{}}
	for i, c := range cases {
		f.replies[fmt.Sprintf("case_%d", i)] = c.reply
	}
	client := f.start(t)
	at := time.Unix(1700000000, 250_000_000)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expr := fmt.Sprintf("case_%d", i)
			rs := client.RunQueries(context.Background(), onePanel(expr), nil, at)
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			r := rs[0]
			if r.PanelID != 7 || r.Panel != "P" || r.RefID != "A" || r.Expr != expr || r.Expanded != expr {
				t.Errorf("result names %+v, want panel 7 P, ref A, expr %s", r.Query, expr)
			}
			if r.OK() != c.ok || r.Series != c.series {
				t.Errorf("OK %v, Series %d; want %v, %d (%+v)", r.OK(), r.Series, c.ok, c.series, r)
			}
			if math.IsNaN(c.value) != math.IsNaN(r.Value) || (!math.IsNaN(c.value) && r.Value != c.value) {
				t.Errorf("Value %v, want %v", r.Value, c.value)
			}
			switch {
			case c.err == "" && r.Err != "":
				t.Errorf("Err %q, want none", r.Err)
			case c.err != "" && !strings.Contains(r.Err, c.err):
				t.Errorf("Err %q, want it to contain %q", r.Err, c.err)
			}
		})
	}
	// Every query reached the server with the evaluation time.
	queries, times, _ := f.received()
	if len(queries) != len(cases) {
		t.Errorf("server saw %d queries, want %d", len(queries), len(cases))
	}
	for i, ts := range times {
		if v, err := strconv.ParseFloat(ts, 64); err != nil || math.Abs(v-1700000000.25) > 1e-3 {
			t.Errorf("query %d: time %q, want 1700000000.25", i, ts)
		}
	}
}

// TestRunQueriesExpands: variables are expanded before the query is sent;
// a query with an undefined variable is reported and never sent.
func TestRunQueriesExpands(t *testing.T) {
	d := Dashboard{
		Templating: Templating{List: []Variable{
			{Name: "model", Type: "query", Query: "label_values(vllm:num_requests_running, model_name)", Current: Current{"qwen2.5-7b", "qwen2.5-7b"}},
			{Name: "gpu_usd_per_hour", Type: "constant", Query: "0.27", Current: Current{"0.27", "0.27"}},
		}},
		Panels: []GPanel{
			{ID: 1, Type: "row", Title: "System"},
			{ID: 2, Type: "timeseries", Title: "Running", Targets: []GTarget{
				{RefID: "A", Expr: `sum(vllm:num_requests_running{model_name=~"$model"})`},
				{RefID: "B", Expr: `$gpu_usd_per_hour * sum(rate(vllm:generation_tokens_total{model_name=~"${model}"}[$__rate_interval]))`},
			}},
			{ID: 3, Type: "row", Title: "Cost", Collapsed: new(true), Panels: []GPanel{
				{ID: 4, Type: "stat", Title: "Nested", Targets: []GTarget{{RefID: "A", Expr: "vector($budget_usd_per_month)"}}},
				{ID: 5, Type: "stat", Title: "Nested ok", Targets: []GTarget{{RefID: "A", Expr: "vector([[gpu_usd_per_hour]])"}}},
			}},
		},
	}
	for _, post := range []bool{true, false} {
		t.Run(map[bool]string{true: "POST", false: "GET fallback"}[post], func(t *testing.T) {
			f := &fakeProm{rejectPost: !post}
			client := f.start(t)
			rs := client.RunQueries(context.Background(), d, Values(d, map[string]string{"__rate_interval": "20s"}), time.Now())
			wantSent := []string{
				`sum(vllm:num_requests_running{model_name=~"qwen2.5-7b"})`,
				`0.27 * sum(rate(vllm:generation_tokens_total{model_name=~"qwen2.5-7b"}[20s]))`,
				`vector(0.27)`,
			}
			queries, _, methods := f.received()
			if !slices.Equal(queries, wantSent) {
				t.Errorf("server received\n%s\nwant\n%s", strings.Join(queries, "\n"), strings.Join(wantSent, "\n"))
			}
			for _, q := range queries {
				if strings.Contains(q, "$") || strings.Contains(q, "[[") {
					t.Errorf("a variable reached the server unexpanded: %s", q)
				}
			}
			if !post && !slices.Contains(methods, http.MethodGet) {
				t.Errorf("methods %v: the client did not fall back to GET", methods)
			}
			if len(rs) != 4 {
				t.Fatalf("%d results, want 4 (one per target, nested included)", len(rs))
			}
			for i, r := range []Result{rs[0], rs[1], rs[3]} {
				if r.Expanded != wantSent[i] || !r.OK() {
					t.Errorf("result %+v: want Expanded %q and OK", r, wantSent[i])
				}
			}
			if r := rs[2]; r.PanelID != 4 || r.OK() || !strings.Contains(r.Err, "$budget_usd_per_month") {
				t.Errorf("undefined variable: result %+v, want panel 4 not OK with an error naming $budget_usd_per_month", r)
			}
		})
	}
}

func TestScalar(t *testing.T) {
	f := &fakeProm{replies: map[string]reply{
		"up_total":    success(vector("42")),
		"nothing":     success(vector()),
		"broken(":     {http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error"}`},
		"scalar_half": success(`{"resultType":"scalar","result":[1700000000,"0.5"]}`),
	}}
	client := f.start(t)
	for _, c := range []struct {
		expr string
		want float64
		ok   bool
	}{
		{"up_total", 42, true},
		{"scalar_half", 0.5, true},
		{"nothing", 0, false},
		{"broken(", 0, false},
	} {
		v, ok := client.Scalar(context.Background(), c.expr)
		if ok != c.ok || (ok && v != c.want) {
			t.Errorf("Scalar(%q) = %v, %v; want %v, %v", c.expr, v, ok, c.want, c.ok)
		}
	}
}

func TestWaitTargets(t *testing.T) {
	const (
		engineURL = "http://127.0.0.1:8000/metrics"
		forgeURL  = "http://127.0.0.1:9464/metrics"
		refused   = `Get "http://127.0.0.1:9464/metrics": dial tcp 127.0.0.1:9464: connect: connection refused`
	)
	up := func(job, url string) promTarget { return promTarget{job, url, "up", ""} }
	always := func(ts ...promTarget) func(int) []promTarget { return func(int) []promTarget { return ts } }
	cases := []struct {
		name      string
		targets   func(poll int) []promTarget
		jobs      []string
		timeout   time.Duration
		wantErr   []string // substrings of the error; nil: success
		minPolls  int
		notInErr  string
		waitsDead bool // the error comes when the context ends
	}{
		{name: "all up", targets: always(up("engine", engineURL), up("forge", forgeURL)),
			jobs: []string{"engine", "forge"}, timeout: 10 * time.Second, minPolls: 1},
		{name: "a job not asked for is down", targets: always(up("engine", engineURL), up("forge", forgeURL),
			promTarget{"gpu", "http://127.0.0.1:9400/metrics", "down", "connection refused"}),
			jobs: []string{"engine", "forge"}, timeout: 10 * time.Second, minPolls: 1},
		{name: "comes up on a later poll", targets: func(poll int) []promTarget {
			if poll < 2 {
				return []promTarget{up("engine", engineURL), {"forge", forgeURL, "down", refused}}
			}
			return []promTarget{up("engine", engineURL), up("forge", forgeURL)}
		}, jobs: []string{"engine", "forge"}, timeout: 20 * time.Second, minPolls: 3},
		{name: "stays down", targets: always(up("engine", engineURL), promTarget{"forge", forgeURL, "down", refused}),
			jobs: []string{"engine", "forge"}, timeout: time.Second, minPolls: 1, waitsDead: true,
			wantErr:  []string{"forge " + forgeURL + ": " + refused},
			notInErr: "engine " + engineURL},
		{name: "never scraped", targets: always(up("engine", engineURL), promTarget{"forge", forgeURL, "unknown", ""}),
			jobs: []string{"engine", "forge"}, timeout: time.Second, minPolls: 1, waitsDead: true,
			wantErr: []string{"forge", "no scrape has succeeded yet"}},
		{name: "job not configured", targets: always(up("engine", engineURL)),
			jobs: []string{"engine", "gpu"}, timeout: time.Second, minPolls: 1, waitsDead: true,
			wantErr: []string{"gpu", "no scrape has succeeded yet"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeProm{targets: c.targets}
			client := f.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			err := client.WaitTargets(ctx, c.jobs...)
			f.mu.Lock()
			polls := f.polls
			f.mu.Unlock()
			if polls < c.minPolls {
				t.Errorf("%d polls, want at least %d", polls, c.minPolls)
			}
			if c.wantErr == nil {
				if err != nil {
					t.Errorf("WaitTargets: %v, want nil", err)
				}
				if ctx.Err() != nil {
					t.Errorf("WaitTargets returned only when the context ended")
				}
				return
			}
			if err == nil {
				t.Fatalf("WaitTargets = nil, want an error containing %q", c.wantErr)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if c.notInErr != "" && strings.Contains(err.Error(), c.notInErr) {
				t.Errorf("error %q reports %q, which is up", err, c.notInErr)
			}
			if c.waitsDead && ctx.Err() == nil {
				t.Errorf("WaitTargets gave up before its context ended")
			}
		})
	}
}

// TestWaitTargetsAPIError: an error answer of the targets endpoint is
// reported once the context ends (client_golang reports a 5xx by its
// status, not its body).
func TestWaitTargetsAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"TSDB not ready"}`)
	}))
	defer srv.Close()
	client, err := NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = client.WaitTargets(ctx, "engine")
	if err == nil || !strings.Contains(err.Error(), "engine") || !strings.Contains(err.Error(), "503") {
		t.Errorf("WaitTargets = %v, want an error naming engine and the HTTP status", err)
	}
}

func matrix(values ...string) string {
	var pts []string
	for i, v := range values {
		pts = append(pts, fmt.Sprintf(`[%d,%q]`, 1700000000+2*i, v))
	}
	return `{"resultType":"matrix","result":[{"metric":{"__name__":"m"},"values":[` + strings.Join(pts, ",") + `]}]}`
}

// TestCheckMoving: only the Moves targets are run, over the range asked
// for, and each passes when its largest finite value is above 0.
func TestCheckMoving(t *testing.T) {
	f := &fakeProm{replies: map[string]reply{
		"rises":       success(matrix("0", "3", "NaN")),
		"flat":        success(matrix("0", "0")),
		"inf":         success(matrix("+Inf", "2")),
		"only nan":    success(matrix("NaN")),
		"not a range": success(vector("5")),
		"bad":         {http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error"}`},
	}}
	c := f.start(t)
	rows := []Row{{Title: "R", Panels: []Panel{{Title: "P", Targets: []Target{
		{Expr: "rises", Legend: "a", Moves: true},
		{Expr: "flat", Legend: "b", Moves: true},
		{Expr: "never asked", Legend: "c"},
		{Expr: "inf", Legend: "d", Moves: true},
		{Expr: "only nan", Legend: "e", Moves: true},
		{Expr: "not a range", Legend: "f", Moves: true},
		{Expr: "bad", Legend: "g", Moves: true},
		{Expr: "$undefined", Legend: "h", Moves: true},
	}}}}}
	start, end := time.Unix(1700000000, 0), time.Unix(1700000060, 0)
	ms := c.CheckMoving(context.Background(), rows, map[string]string{}, start, end, 2*time.Second)
	want := []struct {
		legend string
		ok     bool
		max    float64 // NaN: none
		err    string
	}{
		{"a", true, 3, ""}, {"b", false, 0, ""}, {"d", true, 2, ""}, {"e", false, math.NaN(), ""},
		{"f", false, math.NaN(), ""}, {"g", false, math.NaN(), "parse error"}, {"h", false, math.NaN(), "$undefined"},
	}
	if len(ms) != len(want) {
		t.Fatalf("%d results, want %d (only Moves targets): %+v", len(ms), len(want), ms)
	}
	for i, w := range want {
		m := ms[i]
		if m.Legend != w.legend || m.Panel != "P" || m.OK() != w.ok {
			t.Errorf("result %d = %+v, want legend %s ok %v", i, m, w.legend, w.ok)
		}
		if (w.err == "" && m.Err != "") || !strings.Contains(m.Err, w.err) {
			t.Errorf("%s: Err %q, want one containing %q (none when empty)", w.legend, m.Err, w.err)
		}
		if math.IsNaN(w.max) != math.IsNaN(m.Max) || (!math.IsNaN(w.max) && m.Max != w.max) {
			t.Errorf("%s: Max %v, want %v", w.legend, m.Max, w.max)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ranges) != 6 { // h is never sent: its variable has no value
		t.Fatalf("%d range queries, want 6: %v", len(f.ranges), f.ranges)
	}
	for _, r := range f.ranges {
		if r != "1700000000 1700000060 2" {
			t.Errorf("range %q, want start 1700000000, end 1700000060, step 2", r)
		}
	}
}
