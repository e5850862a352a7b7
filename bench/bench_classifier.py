"""Benchmark: quality-classifier scoring throughput, documents per second on one core.

    PYTHONPATH=. python3 bench/bench_classifier.py [--model data/models/quality/quality_fasttext.bin] [--repeat 5]

On the same documents (every page of ``shared/data/web`` and ``shared/data/quality``) and the same model, in one
process on one core:

* anchor 1, naive loop: the same model scored one document at a time through fastText's public
  ``model.predict(text)`` (text prepared as the model's card says) and, where the model has a signal head, the
  head applied to that one document (``FastTextQualityModel.score_one``): the ratio measures only how the
  scoring is driven;
* anchor 2, datatrove: datatrove's ``FastTextClassifierFilter`` on the same model (whole documents, DCLM-style
  preparation: what one gets scoring with datatrove's own step);
* Curate: the ``quality_classifier`` stage's step (``QualityScoreFilter.run``: batches, one C++ call per batch,
  writing ``quality_score``), as a pipeline runs it.

Reported: documents/s on CPU time of this process (robust on a shared machine) and on wall time; ratios.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"


def shipped_sample_texts() -> list[str]:
    """The 145 documents the quickstart reads (``data/samples``: FineWeb-Edu, DCLM, RedPajama v1/v2, C4), read
    through Curate's own readers."""
    from pipeline.readers.corpus_reader import read_source
    from pipeline.recipe import load_recipe

    recipe = load_recipe(REPO / "recipes" / "quickstart.yaml")
    cwd = os.getcwd()
    os.chdir(REPO)  # the recipe's paths are relative to the repository
    try:
        return [doc.text for source in recipe.model.sources for doc in read_source(source)]
    finally:
        os.chdir(cwd)


def sample_texts() -> list[str]:
    texts = []
    for path in sorted((SHARED / "web").rglob("*.jsonl*")) + [SHARED / "quality" / "dclm-annotations-dev.jsonl"]:
        if "neardup" in path.name:
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def timed(fn, repeat: int) -> tuple[float, float]:
    """Best (CPU seconds, wall seconds) of ``repeat`` runs."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall


def main() -> int:
    from datatrove.data import Document
    from datatrove.pipeline.filters import FastTextClassifierFilter

    from classifiers.fasttext_model import FastTextQualityModel
    from classifiers.quality_classifier import DEFAULT_MODEL, QualityClassifierParams, QualityScoreFilter

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(DEFAULT_MODEL))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--copies", type=int, default=4, help="score the sample this many times per run")
    ap.add_argument(
        "--corpus",
        choices=("shared", "samples"),
        default="shared",
        help="shared: every page of shared/data/web and quality (1,329); samples: the quickstart's data/samples (145)",
    )
    args = ap.parse_args()

    texts = (sample_texts() if args.corpus == "shared" else shipped_sample_texts()) * args.copies
    chars = sum(map(len, texts))
    model = FastTextQualityModel.load(args.model)
    print(f"{len(texts)} documents ({chars / len(texts):,.0f} characters on average), model {args.model}")
    print(f"normalisation: {model.scheme}, first {model.max_chars} characters as words; pid {os.getpid()}")

    ft = model.fasttext
    print(f"signal head: {'yes' if model.head is not None else 'no'}")

    def naive():
        for t in texts:
            model.score_one(t)

    # datatrove copies a model into its asset cache keyed by path: give it a path named by the model's content
    digest = hashlib.sha256(Path(args.model).read_bytes()).hexdigest()[:16]
    dt_model = Path(tempfile.gettempdir()) / f"curate-bench-{digest}.bin"
    shutil.copyfile(args.model, dt_model)
    # datatrove's construction-time check wants the `fasttext-numpy2-wheel` distribution; Curate installs
    # `fasttext-numpy2`, the same `fasttext` module. Skip only that check: the filter's code is datatrove's own.
    dt_filter = object.__new__(FastTextClassifierFilter)
    dt_filter.__init__(str(dt_model), keep_labels=("hq", 0.5), newline_replacement=" ")

    def datatrove_filter():
        for t in texts:
            dt_filter.filter(Document(text=t, id="x"))

    step = QualityScoreFilter(QualityClassifierParams(model=args.model))

    def curate():
        docs = (Document(text=t, id=str(i)) for i, t in enumerate(texts))
        for _ in step.run(docs, 0, 1):
            pass

    # the same scores: Curate's batched scoring is fastText's predict() exactly, and then the same head
    sample = texts[:200]
    ref = [min(1.0, dict(zip(*ft.predict(model.prepare(t), k=-1), strict=True))["__label__hq"]) for t in sample]
    got = model.fasttext_probs(sample)
    assert max(abs(a - b) for a, b in zip(ref, got, strict=True)) < 1e-6, "batched scores differ from predict()"
    ref = [model.score_one(t) for t in sample]
    got = model.score(sample)
    assert max(abs(a - b) for a, b in zip(ref, got, strict=True)) < 1e-9, "batched scores differ from score_one()"

    rows = []
    for name, fn in (
        ("naive loop, one document at a time", naive),
        ("datatrove FastTextClassifierFilter", datatrove_filter),
    ):
        rows.append((name, *timed(fn, args.repeat)))
    rows.append(("Curate quality_classifier", *timed(curate, args.repeat)))
    print(f"\n{'scorer':38s} {'docs/s (CPU)':>14s} {'docs/s (wall)':>14s}")
    for name, cpu, wall in rows:
        print(f"{name:38s} {len(texts) / cpu:14,.0f} {len(texts) / wall:14,.0f}")
    curate_cpu = rows[-1][1]
    for name, cpu, _ in rows[:-1]:
        print(f"Curate / {name}: {cpu / curate_cpu:.2f}x (CPU time)")
    target = 20_000
    rate = len(texts) / curate_cpu
    print(f"\ntarget {target:,} docs/s per core: {'MET' if rate >= target else 'NOT MET'} ({rate:,.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
