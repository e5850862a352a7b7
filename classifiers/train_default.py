"""Train Curate's default quality model reproducibly, and measure it honestly by cross-validation.

    PYTHONPATH=. python3 -m classifiers.train_default            # writes data/models/quality/quality_fasttext.*
    PYTHONPATH=. python3 -m classifiers.train_default --cv-only  # only the cross-validated figures

Data: the human quality judgements of real Common Crawl pages in ``shared/data/quality/dclm-annotations-dev.jsonl``
(DCLM's ``majority_data.jsonl``, DEV half; label 1 = good -> ``__label__hq``, 0 -> ``__label__cc``). The shipped
model trains on all of them, so its own score on them would be meaningless: the figure reported is the ROC-AUC of
``k``-fold cross-validation (each document scored by a model that never saw it: the whole recipe, fastText and
signal head, retrained without its fold, the head on out-of-fold scores inside that training part), averaged
over several fold seeds, next to baselines computed on the same folds: document length, a plain DCLM-style
fastText model (DCLM's text preparation, word bigrams, fastText's defaults otherwise), the document signals
alone, and the recipe's fastText model without the head.

Everything is seeded and fastText trains on one thread, so a re-run writes the same model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from classifiers.doc_signals import document_signals
from classifiers.fasttext_model import FastTextQualityModel, TrainParams, build_card, save_model, train_quality_model
from classifiers.folds import stratified_folds, training_part
from classifiers.metrics import evaluate, roc_auc
from classifiers.signal_head import fit_signal_head
from classifiers.sources import read_labeled

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ANNOTATIONS = SHARED / "quality" / "dclm-annotations-dev.jsonl"
OUT = REPO / "data" / "models" / "quality" / "quality_fasttext.bin"

DEFAULT_PARAMS = TrainParams(
    word_ngrams=2,
    dim=8,
    epoch=50,
    lr=0.5,
    # 50k word-pair buckets, words seen twice or more: a 1.8 MB model that is not quantised. Cross-validated it
    # scores as the 2M-bucket quantised one did, and it predicts 1.6x faster (a quantised row costs a codebook
    # lookup per dimension; bench/RESULTS.md)
    bucket=50_000,
    min_count=2,
    seed=0,
    scheme="curate",
    max_chars=800,  # cross-validated: 800, 1000 and 1200 score alike; 800 reads fastest (bench/RESULTS.md)
    quantize=False,
    signal_head=True,  # fastText's score weighed with document signals by a logistic head
    head_folds=5,
    head_l2=30.0,
)
# "plain fastText": DCLM's text preparation, whole documents, word bigrams, fastText's other defaults
PLAIN_PARAMS = TrainParams(
    word_ngrams=2,
    dim=100,
    epoch=5,
    lr=0.1,
    bucket=2_000_000,
    seed=0,
    scheme="dclm",
    max_chars=None,
    signal_head=False,
)
# the same recipe without the signal head: what fastText alone does with the same words
NO_HEAD_PARAMS = replace(DEFAULT_PARAMS, signal_head=False, scheme="curate-layout")


def out_of_fold_scores(
    texts: list[str], labels: list[int], params: TrainParams, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each document's score from the whole recipe trained on the other ``k - 1`` folds: the final score, and
    the fastText probability alone. With a signal head this is nested: the head of each outer fold is fitted on
    out-of-fold scores *inside* that fold's training part, so no score ever comes from a model (fastText or head)
    that saw the document."""
    final = np.zeros(len(texts))
    fasttext_only = np.zeros(len(texts))
    params = replace(params, seed=params.seed + seed)
    for test in stratified_folds(labels, k, seed):
        pos, neg = training_part(texts, labels, test)
        model, head, _, _ = train_quality_model(pos, neg, params)
        scorer = FastTextQualityModel.from_trained(model, params, head)
        test_texts = [texts[i] for i in test]
        final[test] = scorer.score(test_texts)
        fasttext_only[test] = scorer.fasttext_probs(test_texts)
    return final, fasttext_only


def cross_validate(texts: list[str], labels: list[int], params: TrainParams, k: int, seeds: list[int]) -> dict:
    runs = [out_of_fold_scores(texts, labels, params, k, s) for s in seeds]
    aucs = [roc_auc(labels, final) for final, _ in runs]
    out = {"roc_auc_mean": float(np.mean(aucs)), "roc_auc_per_seed": aucs, "folds": k, "seeds": seeds}
    if params.signal_head:
        ft_aucs = [roc_auc(labels, ft) for _, ft in runs]
        out["fasttext_alone_roc_auc_mean"] = float(np.mean(ft_aucs))
        out["fasttext_alone_roc_auc_per_seed"] = ft_aucs
    return out


def signals_only_cv(texts: list[str], labels: list[int], k: int, seeds: list[int]) -> dict:
    """The signal head without fastText (a constant in its place), cross-validated on the same folds: what the
    document signals alone are worth."""
    signals = np.array([document_signals(t) for t in texts])
    constant = np.full(len(texts), 0.5)
    aucs = []
    for seed in seeds:
        scores = np.zeros(len(texts))
        for test in stratified_folds(labels, k, seed):
            train = np.setdiff1d(np.arange(len(texts)), test)
            head = fit_signal_head(constant[train], signals[train], [labels[i] for i in train], DEFAULT_PARAMS.head_l2)
            scores[test] = head.combine(constant[test], signals[test])
        aucs.append(roc_auc(labels, scores))
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
        report["signals_alone_cv"] = signals_only_cv(texts, labels, args.folds, seeds)
        print(f"document signals alone, logistic regression, CV ROC-AUC: {report['signals_alone_cv']}")
        report["fasttext_without_head_cv"] = cross_validate(texts, labels, NO_HEAD_PARAMS, args.folds, seeds)
        print(f"the default recipe's fastText alone (layout tokens, no head) CV: {report['fasttext_without_head_cv']}")
    report["default_model_cv"] = cross_validate(texts, labels, params, args.folds, seeds)
    print(f"default model recipe {args.folds}-fold CV ROC-AUC: {report['default_model_cv']}")
    if args.cv_only:
        print(json.dumps(report, indent=2))
        return 0

    pos = [t for t, y in zip(texts, labels, strict=True) if y == 1]
    neg = [t for t, y in zip(texts, labels, strict=True) if y == 0]
    model, head, counts, used = train_quality_model(pos, neg, params)
    scorer = FastTextQualityModel.from_trained(model, params, head, path=args.out)
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
        "Curate's default quality model: a small fastText model and a signal head (document length, sentence "
        "ends, word length, capitals, function words) trained on 284 human judgements. "
        "It is a starting point and a demonstration, not DCLM's classifier (which trained on 400k documents): "
        "train your own with `curate classifier train` on your reference data for production use."
    )
    card = build_card(params, data, counts, used, metrics, notes=notes, head=head)
    card["trained_with"] = "PYTHONPATH=. python3 -m classifiers.train_default"
    cp = save_model(model, args.out, card)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size:,} bytes) and {cp} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
