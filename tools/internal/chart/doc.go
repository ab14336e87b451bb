// Package chart draws Forge's five canonical charts and the monthly TCO chart with gonum/plot: output
// throughput, time to first token and time per output token against load, cost
// per million tokens against commercial APIs, and quality retention after
// quantization.
//
// The package knows nothing about result files: callers extract a Set, and
// Render turns it into PNG (for reports and quick looks) and SVG (for pages
// that scale) files. Output is deterministic, so charts can be committed next
// to the results they show and diffs mean the data changed.
package chart
