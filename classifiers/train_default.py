"""Train Curate's default quality model reproducibly, and measure it honestly by cross-validation.

    PYTHONPATH=. python3 -m classifiers.train_default            # writes data/models/quality/quality_fasttext.*
    PYTHONPATH=. python3 -m classifiers.train_default --cv-only  # only the cross-validated figures

Data: the human quality judgements of real Common Crawl pages in ``shared/data/quality/dclm-annotations-dev.jsonl``
(DCLM's ``majority_data.jsonl``, DEV half; label 1 = good -> ``__label__hq``, 0 -> ``__label__cc``). The shipped
model trains on all of them, so its own score on them would be meaningless: the figure reported is the ROC-AUC of
``k``-fold cross-validation (each document scored by a model that never saw it, same hyper-parameters, same
normalisation, same quantisation as the shipped model), averaged over several fold seeds, next to two
baselines computed on the same folds: document length, and a plain DCLM-style fastText model (DCLM's text
preparation, word bigrams, fastText's defaults otherwise).

Everything is seeded and fastText trains on one thread, so a re-run writes the same model.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from classifiers.fasttext_model import FastTextQualityModel, TrainParams, build_card, save_model, train_model
from classifiers.metrics import evaluate, roc_auc
from classifiers.sources import read_labeled

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ANNOTATIONS = SHARED / "quality" / "dclm-annotations-dev.jsonl"
OUT = REPO / "data" / "models" / "quality" / "quality_fasttext.bin"

DEFAULT_PARAMS = TrainParams(
    word_ngrams=2,
    dim=16,
    epoch=50,
    lr=0.5,
    bucket=2_000_000,
    min_count=1,
    seed=0,
    scheme="curate",
    max_chars=1000,
    quantize=True,
    cutoff=100_000,  # the 100k most useful words and word-pair buckets: a model under 3 MB
    retrain=False,  # cross-validated: retraining after the cutoff did not help
    dsub=1,  # one byte per dimension: quantisation costs little (bench/RESULTS.md)
)
# "plain fastText": DCLM's text preparation, whole documents, word bigrams, fastText's other defaults
PLAIN_PARAMS = TrainParams(
    word_ngrams=2, dim=100, epoch=5, lr=0.1, bucket=2_000_000, seed=0, scheme="dclm", max_chars=None
)


def folds(labels: list[int], k: int, seed: int) -> list[list[int]]:
    """Stratified folds: each class shuffled with ``seed`` and dealt round-robin, so every fold has both."""
    rng = random.Random(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    for cls in (0, 1):
        idx = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            out[j % k].append(i)
    return out


def out_of_fold_scores(texts: list[str], labels: list[int], params: TrainParams, k: int, seed: int) -> np.ndarray:
    """Each document's score from the model trained on the other ``k - 1`` folds."""
    scores = np.zeros(len(texts))
    for test in folds(labels, k, seed):
        test_set = set(test)
        pos = [t for i, (t, y) in enumerate(zip(texts, labels, strict=True)) if y == 1 and i not in test_set]
        neg = [t for i, (t, y) in enumerate(zip(texts, labels, strict=True)) if y == 0 and i not in test_set]
        model, _, _ = train_model(pos, neg, replace(params, seed=params.seed + seed))
        scorer = FastTextQualityModel(path="<cv>", scheme=params.scheme, max_chars=params.max_chars)
        scorer._model = model
        scores[test] = scorer.score([texts[i] for i in test])
    return scores


def cross_validate(texts: list[str], labels: list[int], params: TrainParams, k: int, seeds: list[int]) -> dict:
    aucs = [roc_auc(labels, out_of_fold_scores(texts, labels, params, k, s)) for s in seeds]
    return {"roc_auc_mean": float(np.mean(aucs)), "roc_auc_per_seed": aucs, "folds": k, "seeds": seeds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ANNOTATIONS), help="labelled jsonl (text, label 1 = good)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3, help="cross-validation repeats with different fold splits")
    ap.add_argument("--cv-only", action="store_true", help="report cross-validation, write no model")
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a training parameter")
    args = ap.parse_args(argv)
    params = DEFAULT_PARAMS
    for item in args.set:
        key, value = item.split("=", 1)
        current = getattr(params, key)
        parsed = None if value == "None" else (value == "True" if isinstance(current, bool) else value)
        if parsed is not None and not isinstance(current, bool | str):
            parsed = float(value) if "." in value else int(value)
        params = replace(params, **{key: parsed})

    t0 = time.time()
    texts, labels = read_labeled(args.data)
    seeds = list(range(args.seeds))
    print(f"{len(texts)} labelled documents ({sum(labels)} good) from {args.data}")
    report: dict = {"data": str(Path(args.data).name), "documents": len(texts), "positives": sum(labels)}
    if not args.skip_baselines:
        report["length_baseline_roc_auc"] = roc_auc(labels, [len(t) for t in texts])
        print(f"length baseline ROC-AUC: {report['length_baseline_roc_auc']:.4f}")
        report["plain_fasttext_cv"] = cross_validate(texts, labels, PLAIN_PARAMS, args.folds, seeds)
        print(f"plain fastText (DCLM preparation) {args.folds}-fold CV ROC-AUC: {report['plain_fasttext_cv']}")
    report["default_model_cv"] = cross_validate(texts, labels, params, args.folds, seeds)
    print(f"default model recipe {args.folds}-fold CV ROC-AUC: {report['default_model_cv']}")
    if args.cv_only:
        print(json.dumps(report, indent=2))
        return 0

    pos = [t for t, y in zip(texts, labels, strict=True) if y == 1]
    neg = [t for t, y in zip(texts, labels, strict=True) if y == 0]
    model, counts, used = train_model(pos, neg, params)
    scorer = FastTextQualityModel(path=args.out, scheme=params.scheme, max_chars=params.max_chars)
    scorer._model = model
    train_metrics = evaluate(labels, scorer.score(texts).tolist())
    metrics = {
        "cross_validated": report,
        "note": (
            "roc_auc figures under 'cross_validated' are out-of-fold: each document scored by a model trained "
            "without it, same recipe as this model. The shipped model itself trained on every document of the "
            "data set; its score on them ('training_set', below) measures fit, not quality."
        ),
        "training_set": {"roc_auc": train_metrics["roc_auc"], "at_threshold": train_metrics["at_threshold"]},
    }
    data = {
        "positive": [f"{report['data']}: label 1 (human judged good)"],
        "negative": [f"{report['data']}: label 0 (human judged bad)"],
        "source": "DCLM human quality annotations of Common Crawl pages (mlfoundations/dclm data/majority_data.jsonl, "
        "commit 361714bd, MIT), DEV half as shipped in shared/data/quality/",
    }
    notes = (
        "Curate's default quality model: a small, quantised fastText model trained on 284 human judgements. "
        "It is a starting point and a demonstration, not DCLM's classifier (which trained on 400k documents): "
        "train your own with `curate classifier train` on your reference data for production use."
    )
    card = build_card(params, data, counts, used, metrics, notes=notes)
    card["trained_with"] = "PYTHONPATH=. python3 -m classifiers.train_default"
    cp = save_model(model, args.out, card)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size:,} bytes) and {cp} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
