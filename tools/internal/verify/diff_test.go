package verify

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		name, stored, again string
		want                []string // Difference.String() fragments, in order
	}{
		{"identical", `{"a": 1}`, `{"a": 1}`, nil},
		{"leaf", `{"a": {"b": [1, 2.5]}}`, `{"a": {"b": [1, 2.25]}}`, []string{"f: /a/b/1: stored 2.5, recomputed 2.25 from x"}},
		{"missing key", `{"a": 1, "b": 2}`, `{"a": 1}`, []string{"f: /b: stored 2, recomputed (absent or null) from x"}},
		{"array length", `{"a": [1]}`, `{"a": [1, 2]}`, []string{"f: /a: stored [1], recomputed [1,2] from x"}},
		{"escaped key", `{"a/b": 1}`, `{"a/b": 2}`, []string{"f: /a~1b: stored 1, recomputed 2"}},
		{"formatting only", `{"a": 1}`, `{"a":1}`, []string{"f: (formatting): same values"}},
		{"null vs value", `{"a": null}`, `{"a": 0}`, []string{"f: /a: stored (absent or null), recomputed 0"}},
		{"not json", `{`, `{}`, []string{"f: (whole file)"}},
	} {
		got := compare("f", []byte(c.stored), []byte(c.again), "x")
		if len(got) != len(c.want) {
			t.Errorf("%s: %d differences %v, want %d", c.name, len(got), got, len(c.want))
			continue
		}
		for i, w := range c.want {
			if s := got[i].String(); !strings.Contains(s, w) {
				t.Errorf("%s: %q lacks %q", c.name, s, w)
			}
		}
	}
}
