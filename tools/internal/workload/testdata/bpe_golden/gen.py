"""Regenerate the BPE golden files (not run by the tests).

The Go tokenizer is checked against HuggingFace `tokenizers`, the library vLLM
counts with. No real model's tokenizer.json could be had offline, so this
trains three small byte-level BPE tokenizers in the shapes of real ones and
records what `tokenizers` gives for a set of texts:

  gpt2.json     GPT-2: ByteLevel(use_regex) pre-tokenizer, no normalizer.
  llama3.json   Llama 3: Split(Llama 3's regex, Isolated) + ByteLevel(no regex),
                ignore_merges, BOS added by TemplateProcessing, added tokens
                with lstrip/rstrip/single_word.
  digits.json   SmolLM2/StarCoder: NFC + Digits(individual) + ByteLevel with
                add_prefix_space.

Usage (needs `pip install tokenizers`; no network otherwise):
  python gen.py /work/shared/datasets/sharegpt/ShareGPT_V3_filtered_1000.json
"""

import json
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

TEXTS = [
    "hello world", "Hello, World!", "I'm here, they're there, we'LL see, IT'S done.",
    "1234567890 and 3.14159", "naïve café — 日本語のテキスト 🤖🚀", "e\u0301 vs \u00e9",
    "  leading spaces", "trailing spaces   ", "tabs\tand\nnewlines\r\n\r\nend",
    "\n\n\n", "   ", "a", "x" * 300, "def f(x):\n    return x**2  # square\n",
    "<|endoftext|>after", "before<|endoftext|>", "<|begin_of_text|>Hi<|eot_id|>",
    "a <mask> b", "word [W] word[W]word", " qqqq", "qqqq", "The quick brown fox qqqq",
    "\u00a0non-breaking\u2003em space", "URL: https://example.com/a?b=c&d=e",
    "{\"json\": [1, 2, 3]}", "Ünïcödé ÀÉÎÕÜ ß ñ ç", "x\u200bzero width",
]


def corpus(path, lo, hi):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return [e["conversations"][0]["value"] for e in data[lo:hi]]


def train(tok, texts, specials):
    trainer = trainers.BpeTrainer(vocab_size=900, min_frequency=2, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)


def build(kind, texts):
    if kind == "gpt2":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        train(tok, texts, ["<|endoftext|>"])
        return tok
    if kind == "llama3":
        tok = Tokenizer(models.BPE(ignore_merges=True))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        train(tok, texts, ["<|begin_of_text|>", "<|eot_id|>"])
        tok.add_tokens([AddedToken("<mask>", lstrip=True, rstrip=True),
                        AddedToken("[W]", single_word=True)])
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B",
                                          special_tokens=[("<|begin_of_text|>", bos)])])
        # A word reachable by no merge: only ignore_merges makes it one token.
        j = json.loads(tok.to_str())
        j["model"]["vocab"]["Ġqqqq"] = max(j["model"]["vocab"].values()) + 100
        j["model"]["ignore_merges"] = True
        return Tokenizer.from_str(json.dumps(j))
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    train(tok, texts, ["<|endoftext|>"])
    return tok


def main():
    src = sys.argv[1]
    train_texts = corpus(src, 0, 300)
    probe = [p[:400] for p in corpus(src, 500, 540)]
    for kind in ["gpt2", "llama3", "digits"]:
        tok = build(kind, train_texts)
        tok.save(f"{kind}.json", pretty=False)
        cases = []
        for text in TEXTS + probe:
            ids = tok.encode(text, add_special_tokens=False).ids
            full = tok.encode(text).ids
            cases.append({"text": text, "ids": ids, "specials": len(full) - len(ids),
                          "decoded": tok.decode(ids, skip_special_tokens=False)})
        with open(f"{kind}.golden.json", "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False, indent=0)
            f.write("\n")


if __name__ == "__main__":
    main()
