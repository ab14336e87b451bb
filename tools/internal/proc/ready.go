package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrExited is returned by WaitHTTP when the process ended before it
// became ready.
var ErrExited = errors.New("the process exited before it became ready")

// WaitHTTP polls url until it answers 200, timeout passes, ctx ends or done
// is closed (the process exited; nil for an in-process server).
func WaitHTTP(ctx context.Context, url string, timeout time.Duration, done <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		if OK(ctx, c, url) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s", url, timeout)
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-done:
			t.Stop()
			return ErrExited
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// OK says whether url answers 200 to a GET.
func OK(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
