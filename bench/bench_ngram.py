"""Benchmark: Gopher's word n-gram measures, datatrove's loops against Curate's compiled kernels, same words.

Every real page of ../shared/data/web is tokenized once (Curate's spaCy words, equal to datatrove's), then both
sides compute what ``gopher_repetition`` needs at its defaults: the top 2-, 3- and 4-gram (datatrove's
``find_top_duplicate(get_n_grams(words, n))``) and the duplicated 5- to 10-grams (``find_all_duplicate``). The run
checks that every value is equal and prints words/s for each side and the ratio, plus Curate's split into index
(word ids, ``NGramRepetition(words)``), top and duplicate passes. Tokenization is excluded from both sides.

    PYTHONPATH=. python3 bench/bench_ngram.py [--rounds 3] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time

from common import real_texts, report
from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_top_duplicate, get_n_grams

from pipeline.filters.ngram_repetition import NGramRepetition
from pipeline.filters.word_analysis import analyze

TOP = (2, 3, 4)
DUP = (5, 6, 7, 8, 9, 10)


def datatrove_side(word_lists: list[list[str]]) -> list[tuple]:
    out = []
    for words in word_lists:
        top = []
        for n in TOP:
            grams = get_n_grams(words, n)
            top.append(find_top_duplicate(grams) if grams else None)
        out.append((top, [find_all_duplicate(words, n) for n in DUP]))
    return out


def curate_side(word_lists: list[list[str]], split: list[float]) -> list[tuple]:
    out = []
    for words in word_lists:
        t0 = time.perf_counter()
        measures = NGramRepetition(words)
        t1 = time.perf_counter()
        top = [measures.top_ngram_chars(n) for n in TOP]
        t2 = time.perf_counter()
        dup = [measures.duplicated_ngram_chars(n) for n in DUP]
        t3 = time.perf_counter()
        split[0] += t1 - t0
        split[1] += t2 - t1
        split[2] += t3 - t2
        out.append((top, dup))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs of each side")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args = parser.parse_args()

    texts = real_texts()[: args.limit or None]
    word_lists = [analyze(text, "eng").words for text in texts]
    n_words = sum(map(len, word_lists))
    NGramRepetition(["warm", "up", "the", "kernels"] * 3).duplicated_ngram_chars(2)  # load numba's cache first
    best = {"datatrove": float("inf"), "curate": float("inf")}
    best_split = [0.0, 0.0, 0.0]
    expected = got = None
    for _ in range(args.rounds):
        start = time.perf_counter()
        expected = datatrove_side(word_lists)
        best["datatrove"] = min(best["datatrove"], time.perf_counter() - start)
        split = [0.0, 0.0, 0.0]
        start = time.perf_counter()
        got = curate_side(word_lists, split)
        seconds = time.perf_counter() - start
        if seconds < best["curate"]:
            best["curate"], best_split = seconds, split
    if expected != got:
        bad = sum(1 for a, b in zip(expected, got, strict=True) if a != b)
        print(f"MISMATCH: {bad} of {len(texts)} pages differ from datatrove")
        return 1
    print(f"{len(texts):,} real pages, {n_words:,} words; every value equal to datatrove's")
    report(
        "Gopher n-gram measures (top 2-4-grams, duplicated 5-10-grams), one core",
        "words",
        "datatrove loops",
        (best["datatrove"], n_words),
        (best["curate"], n_words),
    )
    index, top, dup = best_split
    print(f"  curate split: index {index:.3f}s, top 2-4 {top:.3f}s, duplicated 5-10 {dup:.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
