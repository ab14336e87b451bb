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
# sha256 is its tree sha256 (data.TreeSHA256: the sha256 of its sha256sum
# listing; LICENSE files included). It is resolved from a seed directory
# only: the upstream tarball (url) uses CRLF line ends in 18 test files, so
# its bytes differ; ../shared/datasets/MANIFEST.md gives each file's source
# and derivation.
dataset "mmlu" {
  format     = "mmlu-csv"
  sha256     = "e358ceba400650b99f59d8881ff987121069f5efd4e62ebf28e38489c1bf89f1"
  url        = "https://people.eecs.berkeley.edu/~hendrycks/data.tar"
  path       = "mmlu"
  size_bytes = 6484565
  license    = "MIT"
}
