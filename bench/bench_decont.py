"""Decontamination: the n-gram index's size and memory for a given number of evaluation items, and filter speed.

Evaluation items are consecutive 80-word chunks of real web text (../shared/data/web); the corpus checked against
them is other real pages (the DCLM annotation pages of ../shared/data/quality, repeated up to --docs), one in ten
with an item appended. Curate builds its index (``build_index``), loads it
as a task does (``NgramIndex``: vocabulary dict + memory-mapped arrays) and checks every corpus document. The
anchor is lm-evaluation-harness's pure-Python procedure (``Janitor.register_contaminant_python``: a Python ``set``
of normalised 13-gram strings, probed with every document n-gram), written out here because ``lm-eval`` is not a
dependency; both must flag the same documents. Memory is the growth of the process's resident set while the
index is loaded (and, for Curate, after touching every page of the arrays).

    python bench/bench_decont.py --items 20000 --docs 1500
"""

from __future__ import annotations

import argparse
import gc
import json
import string
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, SHARED, real_texts

sys.path.insert(0, str(REPO))


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--docs", type=int, default=1500)
    parser.add_argument("--words", type=int, default=80)
    args = parser.parse_args()

    from pipeline.decont.index import BuildNgramIndex, EvalSpec, NgramIndex

    words = " ".join(real_texts()).split()
    items = [" ".join(words[i : i + args.words]) for i in range(0, len(words), args.words)][: args.items]
    with open(SHARED / "quality" / "dclm-annotations-dev.jsonl", encoding="utf-8") as f:
        pages = [json.loads(line)["text"] for line in f]
    corpus = [pages[i % len(pages)] for i in range(args.docs)]
    planted = 0
    for k in range(0, len(corpus), 10):  # one document in ten carries an item
        corpus[k] = corpus[k] + "\n" + items[(k * 7919) % len(items)]
        planted += 1
    tmp = Path(tempfile.mkdtemp(prefix="bench_decont_"))
    (tmp / "items.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in items))
    print(
        f"{len(items):,} evaluation items of {args.words} words; {len(corpus):,} corpus documents ({planted} planted)"
    )

    start = time.perf_counter()
    list(BuildNgramIndex([EvalSpec("items", str(tmp / "items.jsonl"), ("text",))], 13, str(tmp / "work")).run())
    build_s = time.perf_counter() - start
    gc.collect()
    before = rss()
    index = NgramIndex(str(tmp / "work"))
    _ = int(index.hashes.sum()) + int(index.owners.sum())  # touch every page
    curate_mem = rss() - before
    start = time.perf_counter()
    curate_hits = {k for k, t in enumerate(corpus) if index.matches(t)[0]}
    curate_s = time.perf_counter() - start
    info = index.info

    table = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, string.punctuation)

    def ngrams(text: str) -> list[str]:
        w = text.translate(table).split()
        return [" ".join(w[i : i + 13]) for i in range(len(w) - 12)]

    del index
    gc.collect()
    before = rss()
    start = time.perf_counter()
    dirt = set()
    for t in items:
        dirt.update(ngrams(t))
    ref_build_s = time.perf_counter() - start
    ref_mem = rss() - before
    start = time.perf_counter()
    ref_hits = {k for k, t in enumerate(corpus) if any(g in dirt for g in ngrams(t))}
    ref_s = time.perf_counter() - start

    print(
        f"index: {info['distinct_ngrams']:,} distinct 13-grams, {info['vocabulary']:,} words, "
        f"arrays {info['index_bytes'] / 1e6:.1f} MB, built in {build_s:.1f}s"
    )
    print(
        f"  curate loaded index: +{curate_mem / 1e6:,.1f} MB resident; python set of strings: +{ref_mem / 1e6:,.1f} MB"
    )
    print(f"  curate filter   {len(corpus) / curate_s:10,.0f} docs/s ({len(curate_hits)} flagged)")
    print(
        f"  lm-eval python  {len(corpus) / ref_s:10,.0f} docs/s ({len(ref_hits)} flagged; set built in {ref_build_s:.1f}s)"
    )
    print(f"  ratio curate / lm-eval python: {ref_s / curate_s:.2f}x")
    assert curate_hits == ref_hits, "the two procedures flag different documents"


if __name__ == "__main__":
    main()
