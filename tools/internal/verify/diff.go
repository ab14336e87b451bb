package verify

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// compare reports nothing when the stored bytes equal the recomputed ones,
// else every leaf field that differs, by JSON pointer.
func compare(file string, stored, again []byte, from string) []Difference {
	if bytes.Equal(stored, again) {
		return nil
	}
	var a, b any
	if json.Unmarshal(stored, &a) != nil || json.Unmarshal(again, &b) != nil {
		return []Difference{{File: file, Field: "(whole file)", From: "differs from what " + from + " give, and is not JSON"}}
	}
	var out []Difference
	walk("", a, b, func(ptr string, x, y any) {
		out = append(out, Difference{File: file, Field: cmp.Or(ptr, "/"), Stored: show(x), Recomputed: show(y), From: from})
	})
	if len(out) == 0 {
		out = append(out, Difference{File: file, Field: "(formatting)", From: "same values as recomputed from " + from + ", but not byte-identical (whitespace, key order or number format)"})
	}
	return out
}

// walk calls diff for every leaf (or type change) where a and b differ.
func walk(ptr string, a, b any, diff func(string, any, any)) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			diff(ptr, a, b)
			return
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			walk(ptr+"/"+escape(k), x[k], y[k], diff)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			diff(ptr, a, b)
			return
		}
		for i := range x {
			walk(ptr+"/"+strconv.Itoa(i), x[i], y[i], diff)
		}
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) || (a == nil) != (b == nil) {
			diff(ptr, a, b)
		}
	}
}

func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func show(v any) string {
	if v == nil {
		return "(absent or null)"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if s := string(data); len(s) <= 80 {
		return s
	}
	return string(data[:77]) + "..."
}
