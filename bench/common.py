"""Shared pieces of the benchmarks: real web text from ../shared/data, timing, and the result line."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
BENCH_OUT = REPO / "bench" / "out"


def real_texts() -> list[str]:
    """Every real web document of ../shared/data/web (CleanEval, readability, C4, CCNet, RedPajama)."""
    texts = []
    for path in sorted((SHARED / "web").rglob("*.jsonl*")):
        if "neardup-pairs" in path.name:
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    return [t for t in texts if t.strip()]


def timed(fn: Callable[[], int], repeat: int = 1) -> tuple[float, int]:
    """Best wall time over ``repeat`` runs of ``fn`` (which returns how many items it processed)."""
    best, n = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - start)
    return best, n


def report(title: str, unit: str, anchor_name: str, anchor: tuple[float, int], curate: tuple[float, int]) -> float:
    a_rate = anchor[1] / anchor[0]
    c_rate = curate[1] / curate[0]
    ratio = c_rate / a_rate
    print(f"{title}")
    print(f"  {anchor_name:<28} {anchor[1]:>10,} {unit} in {anchor[0]:7.2f}s = {a_rate:12,.0f} {unit}/s")
    print(f"  {'curate':<28} {curate[1]:>10,} {unit} in {curate[0]:7.2f}s = {c_rate:12,.0f} {unit}/s")
    print(f"  ratio curate / {anchor_name}: {ratio:.2f}x")
    return ratio


def datatrove_xxhash_accepts_str() -> None:
    """Let datatrove 0.10.1's MinHash hash ``str`` shingles with xxhash 4.x, as it does with xxhash 3.x.

    datatrove's ``xxhash32``/``xxhash64`` pass ``str`` straight to ``xxhash.xxh*_intdigest``; xxhash 3.x hashed a
    ``str`` as its UTF-8 bytes, xxhash 4.x refuses it ("Strings must be encoded before hashing"). Encoding first
    gives the same hash values under both, so the anchor computes exactly what it computes with xxhash 3.x. Applied
    by the benchmarks only (Curate's own dedup does not use xxhash), before datatrove builds its hash function.
    """
    import xxhash
    from datatrove.utils.hashes import xxhash as dt_xxhash

    if getattr(dt_xxhash, "_curate_str_shim", False):
        return

    def xxhash32(data: str | bytes) -> int:
        return xxhash.xxh32_intdigest(data.encode("utf-8") if isinstance(data, str) else data)

    def xxhash64(data: str | bytes) -> int:
        return xxhash.xxh64_intdigest(data.encode("utf-8") if isinstance(data, str) else data)

    dt_xxhash.xxhash32, dt_xxhash.xxhash64 = xxhash32, xxhash64
    dt_xxhash._curate_str_shim = True


def run_filter_chain(chain: list, docs: list[tuple[str, str]]) -> tuple[float, list[tuple[str | None, str]]]:
    """Seconds taken by a chain of filters (datatrove's or Curate's) and, per ``(id, text)`` document, the first
    drop reason (``Class:reason``, None when kept) and the text as the chain left it."""
    from datatrove.data import Document

    outcomes = []
    start = time.perf_counter()
    for doc_id, text in docs:
        doc = Document(text=text, id=doc_id)
        reason = None
        for step in chain:
            result = step.filter(doc)
            if result is not True:
                reason = f"{type(step).__name__}:{result[1] if isinstance(result, tuple) else 'dropped'}"
                break
        outcomes.append((reason, doc.text))
    return time.perf_counter() - start, outcomes
