package observe

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Result is one panel query run through Prometheus's HTTP API.
type Result struct {
	Query
	Expanded string
	Series   int     // series returned (0: the panel would be empty)
	Value    float64 // the first series' value (NaN when none)
	Err      string
}

// OK says the query ran and returned at least one series with a number.
func (r Result) OK() bool { return r.Err == "" && r.Series > 0 && !math.IsNaN(r.Value) }

// Client talks to one Prometheus.
type Client struct{ api promv1.API }

// NewClient connects to the Prometheus at base (http://host:port).
func NewClient(base string) (*Client, error) {
	c, err := api.NewClient(api.Config{Address: base})
	if err != nil {
		return nil, err
	}
	return &Client{api: promv1.NewAPI(c)}, nil
}

// RunQueries runs every query of the dashboard at time at, with the
// dashboard's variables expanded from vals. A query that fails or returns
// nothing is reported in its Result, not as an error: the caller shows
// them all.
func (c *Client) RunQueries(ctx context.Context, d Dashboard, vals map[string]string, at time.Time) []Result {
	var out []Result
	for _, q := range Queries(d) {
		r := Result{Query: q, Value: math.NaN()}
		expr, err := Expand(q.Expr, vals)
		r.Expanded = expr
		if err != nil {
			r.Err = err.Error()
			out = append(out, r)
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, _, _, err := c.api.Query(qctx, expr, at)
		cancel()
		if err != nil {
			r.Err = err.Error()
		} else {
			r.Series, r.Value = count(v)
		}
		out = append(out, r)
	}
	return out
}

// count returns how many series (or one scalar) a result holds and the
// first finite value among them (NaN when none is finite).
func count(v model.Value) (int, float64) {
	first := math.NaN()
	take := func(f float64) {
		if math.IsNaN(first) && !math.IsNaN(f) && !math.IsInf(f, 0) {
			first = f
		}
	}
	switch x := v.(type) {
	case model.Vector:
		for _, s := range x {
			take(float64(s.Value))
		}
		return len(x), first
	case *model.Scalar:
		take(float64(x.Value))
		return 1, first
	case model.Matrix:
		for _, s := range x {
			if len(s.Values) > 0 {
				take(float64(s.Values[len(s.Values)-1].Value))
			}
		}
		return len(x), first
	}
	return 0, first
}

// WaitTargets polls until every named scrape job has an active target
// whose last scrape succeeded, or ctx ends.
func (c *Client) WaitTargets(ctx context.Context, jobs ...string) error {
	var last string
	notUp := jobs
	for {
		ts, err := c.api.Targets(ctx)
		if err == nil {
			up := map[string]bool{}
			var down []string
			for _, t := range ts.Active {
				job := string(t.Labels["job"])
				if t.Health == promv1.HealthGood {
					up[job] = true
				} else if t.LastError != "" {
					down = append(down, fmt.Sprintf("%s %s: %s", job, t.ScrapeURL, t.LastError))
				}
			}
			var missing []string
			for _, j := range jobs {
				if !up[j] {
					missing = append(missing, j)
				}
			}
			if len(missing) == 0 {
				return nil
			}
			notUp = missing
			last = strings.Join(down, "; ")
		} else if ctx.Err() == nil {
			// A poll cut by the deadline says nothing about the targets:
			// what the last answered poll said stays the reason.
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			if last == "" {
				last = "no scrape has succeeded yet"
			}
			return fmt.Errorf("prometheus: scrape job(s) %s not up: %s", strings.Join(notUp, ", "), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Scalar runs one query and returns its first value (for waiting on a
// counter to reach a figure).
func (c *Client) Scalar(ctx context.Context, expr string) (float64, bool) {
	v, _, _, err := c.api.Query(ctx, expr, time.Now())
	if err != nil {
		return 0, false
	}
	n, f := count(v)
	return f, n > 0 && !math.IsNaN(f)
}

// Moving is a Moves query's largest value over the sweep.
type Moving struct {
	Panel, Legend, Expanded string
	Max                     float64 // NaN: no finite value in the range
	Err                     string
}

// OK says the query rose above 0 during the range.
func (m Moving) OK() bool { return m.Err == "" && m.Max > 0 }

// CheckMoving runs every Moves query of the rows over [start, end] at step
// (query_range) with the variables of vals, and returns each one's largest
// finite value. A query whose maximum is not above 0 did not see the load.
func (c *Client) CheckMoving(ctx context.Context, rows []Row, vals map[string]string, start, end time.Time, step time.Duration) []Moving {
	var out []Moving
	for _, r := range rows {
		for _, p := range r.Panels {
			for _, t := range p.Targets {
				if !t.Moves {
					continue
				}
				m := Moving{Panel: p.Title, Legend: t.Legend, Max: math.NaN()}
				expr, err := Expand(t.Expr, vals)
				m.Expanded = expr
				if err != nil {
					m.Err = err.Error()
					out = append(out, m)
					continue
				}
				qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				v, _, _, err := c.api.QueryRange(qctx, expr, promv1.Range{Start: start, End: end, Step: step})
				cancel()
				if err != nil {
					m.Err = err.Error()
				} else if mx, ok := v.(model.Matrix); ok {
					for _, s := range mx {
						for _, sp := range s.Values {
							if f := float64(sp.Value); !math.IsNaN(f) && !math.IsInf(f, 0) && (math.IsNaN(m.Max) || f > m.Max) {
								m.Max = f
							}
						}
					}
				}
				out = append(out, m)
			}
		}
	}
	return out
}
