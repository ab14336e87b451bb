#!/usr/bin/env python3
"""Regenerate sharegpt_labeled.json (not run by the tests).

sharegpt_labeled.json is a small ShareGPT-format file (a JSON list of
{"id", "conversations": [{"from", "value"}]}) written for
TestShareGPTLabeled: conversations of the shapes real ShareGPT dumps hold
(replies from gpt/chatgpt/bard/bing/assistant, "user" prompts, multi-turn,
code, non-Latin text, first turns only) and ones vLLM's rules drop.

Each entry's "id" is its label, the outcome the test expects; the Go code
never reads ids:

  <outcome>-<n>          the outcome holds with or without an output length
                         (Spec.OutputTokens): "keep" (kept, max_tokens = the
                         reply's length) or the Skip* reason that drops it.
  noreply+<outcome>-<n>  the entry holds a human prompt only: without an
                         output length it is skipped as no_reply; with one,
                         <outcome> is "keep" (max_tokens = the output length)
                         or the reason that drops it.

The boundary entries are sized in bytes for the estimate (4 bytes a token,
rounded up): prompts of 12 and 13 bytes (3 and 4 tokens), replies of 12 and
14 bytes, a 4096-byte prompt with a 4096-byte reply (1024 + 1024 = 2048
tokens, both limits exactly), a 4097-byte prompt (1025 tokens) and 2048 +
6148 bytes (512 + 1537 = 2049 tokens).

Usage: python3 gen_sharegpt_labeled.py   (writes next to this script)
"""

import itertools
import json
import os


def exact(text, n):
    """text cut or repeated to exactly n UTF-8 bytes (ASCII text only)."""
    assert text.isascii()
    while len(text) < n:
        text += text
    return text[:n]


LOG = "".join(
    f"2023-03-{d:02d}T{h:02d}:{m:02d}:{s:02d}Z {lvl} {svc}[{pid}]: {msg}\n"
    for d, h, m, s, lvl, svc, pid, msg in [
        (14, 9, 12, 3, "INFO ", "api", 2211, "GET /v1/orders?page=2 200 41ms"),
        (14, 9, 12, 4, "INFO ", "api", 2211, "GET /v1/orders?page=3 200 38ms"),
        (14, 9, 12, 9, "WARN ", "api", 2211, "slow query: SELECT * FROM orders WHERE customer_id = $1 (812ms)"),
        (14, 9, 13, 0, "ERROR", "worker", 3407, "job 88121 failed: context deadline exceeded"),
        (14, 9, 13, 0, "INFO ", "worker", 3407, "retrying job 88121 in 30s (attempt 2/5)"),
        (14, 9, 13, 30, "ERROR", "worker", 3407, "job 88121 failed: connection refused (db-primary:5432)"),
        (14, 9, 13, 31, "WARN ", "pgbouncer", 901, "pool full for user app (max_client_conn=200)"),
        (14, 9, 14, 2, "INFO ", "api", 2211, "POST /v1/checkout 201 233ms"),
        (14, 9, 14, 5, "ERROR", "api", 2211, "POST /v1/checkout 503 5002ms upstream timeout"),
    ])
NOTES = ("Meeting notes, platform team, Thursday. Attendees: Priya, Marcus, Jun, Elena. "
         "1) The migration of the billing service to the new cluster slipped by a week because the "
         "staging database snapshot was two months old and the schema diff failed on three tables. "
         "Marcus will refresh the snapshot and rerun the diff before Monday. 2) On-call load is uneven: "
         "Jun took eleven pages last week, most of them from the flaky disk alert on the log hosts. "
         "Elena proposed raising the threshold from 80 to 90 percent and adding a 15 minute hold. "
         "Agreed, with a review in two weeks. 3) Budget: the GPU reservation renews at the end of the "
         "quarter; Priya needs utilisation numbers per team by the 20th. ")
ESSAY = ("The history of the printing press is usually told as the story of one man and one machine, "
         "but the change it brought took more than a century to unfold. Movable type had existed in "
         "East Asia for hundreds of years before Gutenberg; what was new in Mainz around 1450 was the "
         "combination of a hand mould for casting type in quantity, an oil-based ink that would stick "
         "to metal, and a screw press adapted from wine and paper making. ")

CODE_Q = """Why does this Python code print None?

```python
def add(a, b):
    print(a + b)

result = add(2, 3)
print(result)
```"""
CODE_A = """Your function prints the sum but never returns it, so `add(2, 3)` evaluates to `None` and that is what ends up in `result`.

Return the value instead:

```python
def add(a, b):
    return a + b

result = add(2, 3)
print(result)  # 5
```"""


def conv(*turns):
    return [{"from": f, "value": v} for f, v in turns]


H, G = "human", "gpt"
entries = [
    ("keep-1", conv((H, "Explain how a hash map handles collisions, and when open addressing beats chaining."),
                    (G, "A hash map turns each key into a bucket index. Two keys can land in the same bucket: with chaining, each bucket holds a small list and lookups walk it; with open addressing, a colliding key probes for the next free slot in the table itself. Open addressing wins when entries are small and the load factor stays low, because the probes stay within a few cache lines."))),
    ("keep-2", conv((H, "Can you help me plan a 3-day trip to Lisbon on a budget?"),
                    (G, "Sure! Day 1: walk Alfama and Baixa, ride tram 28 early to skip the queues. Day 2: Belém (the tower, the monastery, and a pastel de nata). Day 3: LX Factory and sunset at a miradouro. Use the Viva Viagem card for transport."),
                    (H, "What about day trips from there?"),
                    (G, "Sintra is 40 minutes by train from Rossio; Cascais is a cheap ride along the coast."))),
    ("keep-3", conv(("user", "How do I undo the last git commit but keep the changes?"),
                    ("assistant", "Use `git reset --soft HEAD~1`. The commit is removed, and its changes stay staged, ready to be committed again."))),
    ("keep-4", conv((H, "Write a short product description for a stainless steel water bottle."),
                    ("chatgpt", "Keep drinks cold for 24 hours or hot for 12 with this double-walled, vacuum-insulated stainless steel bottle. Leak-proof lid, no metallic taste, and it fits most cup holders."))),
    ("keep-5", conv((H, "What is the difference between weather and climate?"),
                    ("bard", "Weather is what the atmosphere does over hours and days; climate is the average of that weather, and its variability, over decades."))),
    ("keep-6", conv((H, "Find me a recipe for vegan banana bread."),
                    ("bing", "Mash 3 ripe bananas, whisk in 1/3 cup melted coconut oil, 1/2 cup sugar and 1 tsp vanilla, fold in 1 1/2 cups flour with 1 tsp baking soda and a pinch of salt, then bake at 175 °C for 55 minutes."))),
    ("keep-7", conv((H, CODE_Q), (G, CODE_A))),
    ("keep-8", conv((H, "请用简单的语言解释一下什么是机器学习。"),
                    (G, "机器学习就是让计算机从大量例子中自己找出规律，而不是由人把每条规则都写出来。"))),
    ("keep-9", conv((H, "Peux-tu m'aider à écrire un message d'anniversaire pour ma sœur ? 🎂"),
                    (G, "Bien sûr ! « Joyeux anniversaire à la meilleure des sœurs. Merci pour les fous rires et pour avoir toujours été là. Je t'aime fort ! » 🎉"))),
    # 13 bytes: the shortest prompt the estimate counts as 4 tokens.
    ("keep-10", conv((H, "What's a VPN?"), (G, "It's a tunnel."))),
    # 4096 + 4096 bytes: a 1024-token prompt and 2048 tokens in all, both limits exactly.
    ("keep-11", conv((H, exact("Summarize these server logs and tell me what went wrong:\n\n" + LOG, 4096)),
                     (G, exact("The logs show a database connectivity problem that built up over about a minute. " + NOTES, 4096)))),
    ("keep-12", conv((H, "\n\nI have two lists in Python and want the items that are in both. What's the fastest way?\n"),
                     (G, "Convert one to a set and test membership: `common = [x for x in a if x in set(b)]`, or `set(a) & set(b)` if order and duplicates do not matter."))),

    ("prompt_too_short-1", conv((H, "hi"), (G, "Hello! How can I help you today?"))),
    # 12 bytes: 3 tokens, one short of the minimum.
    ("prompt_too_short-2", conv((H, "What is DNS?"), (G, "DNS is the system that turns names like example.com into the IP addresses computers use to connect."))),
    ("output_too_short-1", conv((H, "Is Python dynamically typed?"), (G, "Yes."))),
    # 12 bytes: 3 tokens.
    ("output_too_short-2", conv((H, "Is HTML a programming language?"), (G, "No, it isn't"))),
    # The reply was lost (an empty value, as in scraped conversations cut short).
    ("output_too_short-3", conv((H, "Translate 'good morning' into Japanese, Korean and Thai."), (G, ""))),
    # 4097 bytes: 1025 tokens.
    ("prompt_too_long-1", conv((H, exact("Here are my meeting notes, please turn them into action items:\n\n" + NOTES, 4097)),
                               (G, "Action items: Marcus refreshes the staging snapshot; Elena changes the disk alert; Priya collects GPU utilisation."))),
    # 2048 + 6148 bytes: 512 + 1537 = 2049 tokens.
    ("total_too_long-1", conv((H, exact("Continue this essay for another few pages, in the same style:\n\n" + ESSAY, 2048)),
                              (G, exact(ESSAY, 6148)))),
    ("first_turn_not_human-1", conv(("system", "You are a helpful assistant."), (H, "What's the capital of Australia?"), (G, "Canberra."))),
    ("first_turn_not_human-2", conv((G, "Hi! I'm an AI assistant. What can I do for you?"), (H, "Recommend a sci-fi novel."), (G, "Try 'The Left Hand of Darkness' by Ursula K. Le Guin."))),
    ("first_turn_not_human-3", conv((G, "Here is the rest of the story you asked for: the ship reached the harbour at dawn."))),
    ("second_turn_not_gpt-1", conv((H, "I need a name for my bakery."), (H, "It's in a small town and mostly sells sourdough."), (G, "How about 'Rise & Crumb' or 'The Slow Loaf'?"))),
    ("no_conversation-1", []),
    ("no_conversation-2", None),

    # First turns only, like the ShareGPT subsets that keep just the prompt.
    ("noreply+keep-1", conv((H, "Write a cover letter for a junior data analyst position at a logistics company."))),
    ("noreply+keep-2", conv(("user", "What are the pros and cons of remote work for a small startup?"))),
    ("noreply+keep-3", conv((H, exact("Rewrite the following in plain English for a general audience:\n\n" + ESSAY, 1900)))),
    ("noreply+keep-4", conv((H, CODE_Q.replace("Why does this Python code print None?", "Add type hints and a docstring to this function:")))),
    ("noreply+keep-5", conv((H, "Объясни, пожалуйста, как работает HTTPS, простыми словами."))),
    ("noreply+keep-6", conv((H, "Tell me a joke"))),
    ("noreply+keep-7", conv((H, exact("Summarize these server logs:\n\n" + LOG, 1200)))),
    ("noreply+keep-8", conv((H, "Compare PostgreSQL and MySQL for a read-heavy web application with about 50 GB of data."))),
    ("noreply+prompt_too_short-1", conv((H, "hello"))),
    ("noreply+prompt_too_short-2", conv((H, ""))),
    ("noreply+prompt_too_long-1", conv((H, exact("Proofread this chapter and list every typo:\n\n" + ESSAY, 4100)))),
]


def main():
    a = [e for e in entries if not e[0].startswith("noreply+")]
    b = [e for e in entries if e[0].startswith("noreply+")]
    # Interleave the two kinds so the file reads like a mixed dump.
    out = []
    for pair in itertools.zip_longest(a, b[::-1]):
        for e in pair:
            if e is None:
                continue
            id_, c = e
            out.append({"id": id_} if c is None else {"id": id_, "conversations": c})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sharegpt_labeled.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
