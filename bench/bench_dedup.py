"""MinHash dedup: Curate against datasketch (signatures) and datatrove's four MinHash stages (the whole dedup).

All on real web text from ../shared/data, in this one process, one after the other, on one core:

1. Signatures per second on real pages: datasketch's ``MinHash.update`` loop (the same shingles, the same
   256 permutations; Curate's values are identical), datasketch's ``update_batch``, datatrove's
   ``MinhashDedupSignature`` (its own 14x8 = 112 hashes, writing its signature files), and Curate.
2. The whole dedup on ``--docs`` documents: real pages cut into ~``--words``-word passages, repeated with
   controlled edits (exact copies, 2% and 5% word substitutions, added boilerplate, case/spacing changes) so
   most passages have near-duplicates. datatrove: ``MinhashDedupSignature`` -> ``MinhashDedupBuckets`` (one
   task per bucket) -> ``MinhashDedupCluster`` -> ``MinhashDedupFilter``; Curate: ``minhash_dedup``'s collect ->
   buckets (one shard per 6,250 documents) -> clusters -> apply. Same documents, each with its defaults.
3. Peak memory (max RSS, in a fresh subprocess) of the clustering alone (Curate: bucket shards + merge;
   datatrove: ``MinhashDedupCluster``) on the work files of ``--docs / 4`` and ``--docs`` documents (1x, 4x; datatrove
   at 4x only, to keep the run short).

    python bench/bench_dedup.py --docs 100000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import BENCH_OUT, REPO, datatrove_xxhash_accepts_str, real_texts

os.environ.setdefault("TQDM_DISABLE", "1")  # datatrove's cluster step draws a progress bar

sys.path.insert(0, str(REPO))

BOILER = "Share this page. Subscribe to our newsletter. All rights reserved. Privacy policy and cookie settings."


def passages(words_per_doc: int) -> list[str]:
    out = []
    for text in real_texts():
        tokens = text.split(" ")
        for start in range(0, len(tokens) - words_per_doc // 2, words_per_doc):
            out.append(" ".join(tokens[start : start + words_per_doc]))
    return out


def edit(text: str, kind: int, rng: random.Random) -> str:
    tokens = text.split(" ")

    def substitute(rate: float) -> str:
        return " ".join(rng.choice(tokens) if rng.random() < rate else t for t in tokens)

    return [
        lambda: text,  # the page itself
        lambda: text,  # an exact copy
        lambda: substitute(0.02),  # near-duplicate (Jaccard ~0.9)
        lambda: f"{BOILER} {text} {BOILER}",  # the same page in another template
        lambda: substitute(0.05),  # a rewrite (Jaccard ~0.6-0.8): mostly not a duplicate
        lambda: text.upper().replace(" ", "  "),  # the same text, other case and spacing
        lambda: substitute(0.01),
    ][kind % 7]()


def make_docs(n: int, words_per_doc: int):
    from datatrove.data import Document

    base = passages(words_per_doc)
    rng = random.Random(0)
    docs = []
    for k in range(n):
        text = edit(base[k % len(base)], k // len(base), rng)
        docs.append(Document(text=text, id=f"doc-{k:07d}", metadata={"read_order": f"0000/bench/{k:012d}"}))
    return docs, len(base)


def copies(docs):
    from datatrove.data import Document

    return (Document(text=d.text, id=d.id, metadata=dict(d.metadata)) for d in docs)


# ---------------------------------------------------------------- 1. signatures


def bench_signatures(n_pages: int, num_perm: int) -> dict:
    from datasketch import MinHash
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature

    from pipeline.dedup.minhash_signature import MinHasher
    from pipeline.dedup.shingles import Normalisation, shingle_bytes, shingle_hashes, words

    texts = [t for t in real_texts() if len(t.split()) >= 50][:n_pages]
    norm = Normalisation()
    hasher = MinHasher(num_perm, 1)
    shingled = [shingle_bytes(words(t, norm), 5) for t in texts]
    n_shingles = sum(len(s) for s in shingled)
    results = {"pages": len(texts), "shingles": n_shingles, "num_perm": num_perm}

    def clock(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def ds_loop(s):
        m = MinHash(num_perm=num_perm, seed=1)
        for x in s:
            m.update(x)

    def ds_batch(s):
        MinHash(num_perm=num_perm, seed=1).update_batch(list(s))

    def curate_sig(s):
        hasher.signature(shingle_hashes(s, unique=False))

    def interleaved(methods: dict, rounds: int = 2) -> dict:
        """Page by page, every method in turn: a shared, noisy machine slows them all alike."""
        best = dict.fromkeys(methods, float("inf"))
        for _ in range(rounds):
            total = dict.fromkeys(methods, 0.0)
            for s in shingled:
                for name, fn in methods.items():
                    start = time.perf_counter()
                    fn(s)
                    total[name] += time.perf_counter() - start
            best = {k: min(best[k], total[k]) for k in methods}
        return best

    def curate_text():
        for t in texts:
            hasher.signature(shingle_hashes(shingle_bytes(words(t, norm), 5), unique=False))

    def ds_text():
        for t in texts:
            m = MinHash(num_perm=num_perm, seed=1)
            for x in shingle_bytes(words(t, norm), 5):
                m.update(x)

    out = BENCH_OUT / "dedup" / "dt_sigs"

    def datatrove_text():
        shutil.rmtree(out, ignore_errors=True)
        docs = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
        for _ in MinhashDedupSignature(str(out)).run(docs, 0, 1) or ():
            pass

    results["from_shingles_s"] = interleaved(
        {"datasketch_update_loop": ds_loop, "datasketch_update_batch": ds_batch, "curate": curate_sig}
    )
    results["from_text_s"] = {
        "datasketch_update_loop": clock(ds_text),
        "datatrove_MinhashDedupSignature_112": clock(datatrove_text),
        "curate": min(clock(curate_text) for _ in range(2)),
    }
    return results


# ---------------------------------------------------------------- 2. whole dedup


def run_datatrove(docs, root: Path) -> tuple[dict, set[str]]:
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    config = MinhashConfig()
    times = {}
    start = time.perf_counter()
    for _ in MinhashDedupSignature(str(root / "sigs"), config=config).run(copies(docs), 0, 1) or ():
        pass
    times["signatures"] = time.perf_counter() - start
    start = time.perf_counter()
    for b in range(config.num_buckets):
        for _ in (
            MinhashDedupBuckets(str(root / "sigs"), str(root / "buckets"), config=config).run(
                None, b, config.num_buckets
            )
            or ()
        ):
            pass
    times["buckets"] = time.perf_counter() - start
    start = time.perf_counter()
    for _ in MinhashDedupCluster(str(root / "buckets"), str(root / "remove_ids"), config=config).run(None, 0, 1) or ():
        pass
    times["cluster"] = time.perf_counter() - start
    start = time.perf_counter()
    kept = {d.id for d in MinhashDedupFilter(str(root / "remove_ids")).run(copies(docs), 0, 1)}
    times["filter"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    return times, {d.id for d in docs} - kept


def shards_for(docs: int) -> int:
    """Bucket shards in proportion to the input (one per 6,250 documents), as a real job would size them."""
    return max(1, docs // 6250)


def run_curate(docs, root: Path) -> tuple[dict, set[str]]:
    from pipeline.dedup.drop_listed import DropListed
    from pipeline.dedup.minhash_dedup import MinHashBuckets, MinHashClusters, MinHashCollect, MinHashDedupParams

    params = MinHashDedupParams(threshold=0.8)
    work = str(root)
    shards = shards_for(len(docs))
    times = {}
    start = time.perf_counter()
    for _ in MinHashCollect(params, work, shards).run(copies(docs), 0, 1):
        pass
    times["signatures"] = time.perf_counter() - start
    start = time.perf_counter()
    for s in range(shards):
        for _ in MinHashBuckets(params, work).run(None, s, shards):
            pass
    times["buckets"] = time.perf_counter() - start
    start = time.perf_counter()
    for _ in MinHashClusters(params, work).run(None, 0, 1):
        pass
    times["cluster"] = time.perf_counter() - start
    start = time.perf_counter()
    kept = {d.id for d in DropListed(work, "near_duplicate").run(copies(docs), 0, 1)}
    times["filter"] = time.perf_counter() - start
    times["total"] = sum(times.values())
    return times, {d.id for d in docs} - kept


# ---------------------------------------------------------------- 3. clustering memory

MEMORY_SCRIPT = r"""
import json, sys
sys.path.insert(0, {repo!r})
job, work, task, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
import numpy, polars, scipy.sparse.csgraph  # imported before the baseline is taken
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster
from pipeline.dedup.minhash_dedup import MinHashBuckets, MinHashClusters, MinHashDedupParams
from loguru import logger
logger.remove()

def hwm_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024

with open("/proc/self/clear_refs", "w") as f:  # reset the high-water mark to the current RSS
    f.write("5")
base = hwm_mb()
params, config = MinHashDedupParams(threshold=0.8), MinhashConfig()
if job == "curate_buckets":
    list(MinHashBuckets(params, work).run(None, task, tasks))
elif job == "curate_clusters":
    list(MinHashClusters(params, work).run(None, 0, 1))
elif job == "datatrove_buckets":
    list(MinhashDedupBuckets(work + "/sigs", work + "/buckets_mem", config=config).run(None, task, tasks) or ())
else:
    list(MinhashDedupCluster(work + "/buckets", work + "/remove_ids_mem", config=config).run(None, 0, 1) or ())
print(json.dumps({{"baseline_mb": base, "peak_mb": hwm_mb()}}))
"""


def task_memory(job: str, work: Path, task: int = 0, tasks: int = 1) -> float:
    """Memory one task adds to a fresh interpreter (with the libraries imported): VmHWM after - before, MB."""
    script = MEMORY_SCRIPT.format(repo=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", script, job, str(work), str(task), str(tasks)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["peak_mb"] - result["baseline_mb"]


def clustering_memory(which: str, work: Path, shards: int, buckets: int = 14) -> dict:
    """Largest bucket task and the cluster task, each alone in a fresh process."""
    if which == "curate":
        per_task = [task_memory("curate_buckets", work, s, shards) for s in range(shards)]
        return {"buckets_max_mb": max(per_task), "clusters_mb": task_memory("curate_clusters", work)}
    per_task = [task_memory("datatrove_buckets", work, b, buckets) for b in range(buckets)]
    return {"buckets_max_mb": max(per_task), "clusters_mb": task_memory("datatrove_cluster", work)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=120)
    parser.add_argument("--pages", type=int, default=150, help="real pages for the signature benchmark")
    args = parser.parse_args()
    datatrove_xxhash_accepts_str()  # datatrove 0.10.1 hashes str shingles; xxhash 4.x wants bytes
    import datatrove.utils.logging  # noqa: F401  (adds datatrove's log handler, removed below)
    from loguru import logger

    logger.remove()
    logging.disable(logging.WARNING)
    root = BENCH_OUT / "dedup"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)

    sig = bench_signatures(args.pages, 256)
    print(f"1. signatures, {sig['pages']} real pages, {sig['shingles']:,} shingles, 256 permutations")
    for group in ("from_shingles_s", "from_text_s"):
        curate = sig[group]["curate"]
        for name, seconds in sig[group].items():
            rate = sig["pages"] / seconds
            print(
                f"  {group[:-2]:<14} {name:<38} {seconds:7.2f}s {rate:9.1f} pages/s  curate is {seconds / curate:5.1f}x"
            )

    results = {"signatures": sig, "whole": {}, "memory": {}}
    docs, unique = make_docs(args.docs, args.words)
    print(f"2. whole dedup, {len(docs):,} documents ({unique:,} distinct real passages of ~{args.words} words + edits)")
    dt_times, dt_removed = run_datatrove(docs, root / "datatrove_4x")
    cu_times, cu_removed = run_curate(docs, root / "curate_4x")
    for name, t in (("datatrove (4 MinHash stages)", dt_times), ("curate minhash_dedup", cu_times)):
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in t.items() if k != "total")
        print(f"  {name:<30} {t['total']:7.1f}s  ({phases})")
    removed_both = len(dt_removed & cu_removed)
    print(
        f"  removed: datatrove {len(dt_removed):,}, curate {len(cu_removed):,}, both {removed_both:,}; "
        f"curate / datatrove speed: {dt_times['total'] / cu_times['total']:.2f}x"
    )
    results["whole"] = {
        "docs": len(docs),
        "datatrove_s": dt_times,
        "curate_s": cu_times,
        "removed": {"datatrove": len(dt_removed), "curate": len(cu_removed), "both": removed_both},
        "speedup": dt_times["total"] / cu_times["total"],
    }
    stats = json.loads((root / "curate_4x" / "dedup_stats.json").read_text())
    print(f"  curate clusters: {stats['clusters']:,}, sizes {stats['cluster_size_histogram']}")

    quarter = docs[: len(docs) // 4]
    run_curate(quarter, root / "curate_1x")
    print("3. memory each clustering task adds to a fresh interpreter with the libraries loaded (VmHWM)")
    for size, label in ((len(quarter), "1x"), (len(docs), "4x")):
        for which in ("curate", "datatrove") if label == "4x" else ("curate",):
            mem = clustering_memory(which, root / f"{which}_{label}", shards_for(size))
            results["memory"][f"{which}_{label}"] = {"docs": size, **mem}
            print(
                f"  {which:<10} {label} ({size:>7,} docs, {shards_for(size) if which == 'curate' else 14:>2} bucket tasks): "
                f"largest bucket task +{mem['buckets_max_mb']:6.1f} MB, "
                f"cluster task +{mem['clusters_mb']:6.1f} MB"
            )
    (root / "results.json").write_text(json.dumps(results, indent=2))
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
