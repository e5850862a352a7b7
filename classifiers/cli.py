"""``curate classifier train|eval``: train a DCLM-style fastText quality model, and measure one against labels.

The lead's ``pipeline/cli.py`` calls :func:`register_cli` on its argparse sub-parsers; each sub-command's
``func`` takes the parsed ``Namespace`` and returns the exit code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from classifiers.sources import FORMATS, iter_texts, read_labeled
from classifiers.text import DEFAULT_MAX_CHARS, SCHEMES


def holdout_split(texts: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """Split texts into (train, held out) by a hash of the text: stable across runs, machines and file order,
    and a text repeated in the input lands on one side only."""
    if fraction <= 0:
        return list(texts), []
    train, held = [], []
    for t in texts:
        h = int.from_bytes(hashlib.sha256(t.encode("utf-8", "replace")).digest()[:8], "big") / 2**64
        (held if h < fraction else train).append(t)
    return train, held


def cmd_train(args: argparse.Namespace) -> int:
    # imported per command: `curate` registers this sub-command on every start (scipy alone takes a second)
    from classifiers.fasttext_model import (  # noqa: PLC0415
        FastTextQualityModel,
        TrainParams,
        build_card,
        save_model,
        train_quality_model,
    )
    from classifiers.metrics import evaluate, format_report  # noqa: PLC0415

    params = TrainParams(
        word_ngrams=args.word_ngrams,
        dim=args.dim,
        epoch=args.epoch,
        lr=args.lr,
        bucket=args.bucket,
        min_count=args.min_count,
        seed=args.seed,
        scheme=args.normalization,
        max_chars=args.max_chars or None,
        quantize=args.quantize,
        cutoff=args.cutoff,
        threads=args.threads,
        signal_head=args.signal_head,
        head_folds=args.head_folds,
    )
    positives = list(iter_texts(args.positive, args.format, args.text_key))
    negatives = list(iter_texts(args.negative, args.format, args.text_key))
    if not positives or not negatives:
        print(f"error: need documents on both sides (read {len(positives)} positive, {len(negatives)} negative)")
        return 2
    pos_train, pos_held = holdout_split(positives, args.holdout)
    neg_train, neg_held = holdout_split(negatives, args.holdout)
    try:
        model, head, counts, used = train_quality_model(pos_train, neg_train, params)
    except ValueError as e:
        print(f"error: {e}")
        return 2
    metrics = None
    if pos_held and neg_held:
        scorer = FastTextQualityModel.from_trained(model, params, head, path=str(args.out))
        held = pos_held + neg_held
        labels = [1] * len(pos_held) + [0] * len(neg_held)
        metrics = evaluate(labels, scorer.score(held).tolist(), threshold=0.5)
        metrics["split"] = f"held out: {args.holdout:g} of each class by sha256(text), never trained on"
    counts.update(read_positive=len(positives), read_negative=len(negatives))
    counts.update(heldout_positive=len(pos_held), heldout_negative=len(neg_held))
    data = {"positive": list(args.positive), "negative": list(args.negative), "format": args.format or "inferred"}
    card = build_card(params, data, counts, used, metrics, notes=args.notes or "", head=head)
    cp = save_model(model, args.out, card)
    print(f"model: {args.out}\ncard: {cp}")
    print(f"trained on {counts['positive']} positive and {counts['negative']} negative documents")
    if head is not None:
        weights = ", ".join(f"{n} {w:+.2f}" for n, w in zip(head.inputs, head.weights, strict=True))
        print(f"signal head (standardised weights, fitted on {params.head_folds}-fold out-of-fold scores): {weights}")
    if metrics:
        print(f"held-out ({len(pos_held)} positive, {len(neg_held)} negative):")
        print(format_report(metrics))
    else:
        print("no held-out metrics (--holdout 0, or too few documents to hold any out)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from classifiers.fasttext_model import FastTextQualityModel  # noqa: PLC0415
    from classifiers.metrics import evaluate, format_report  # noqa: PLC0415

    model = FastTextQualityModel.load(args.model, args.normalization, args.max_chars, args.positive_label)
    texts, labels = read_labeled(args.data, args.label_key, args.format)
    if len(set(labels)) < 2:
        print(f"error: {args.data} needs documents of both labels (got {len(labels)} all labelled {labels[:1]})")
        return 2
    metrics = evaluate(labels, model.score(texts).tolist(), threshold=args.threshold, bins=args.bins)
    metrics.update(model=str(args.model), data=str(args.data))
    trained_on = model.card.get("data", {})
    if trained_on:
        metrics["model_trained_on"] = trained_on
    print(format_report(metrics))
    name = Path(args.data).name
    if any(name in str(entry) for side in ("positive", "negative") for entry in trained_on.get(side, [])):
        print(
            f"warning: the model card says the model was trained on {name}: these figures measure fit, not quality "
            "(see the card's cross-validated or held-out metrics)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, indent=2) + "\n")
        print(f"metrics written to {args.json}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``classifier {train,eval}`` to an argparse sub-parser set."""
    parser = subparsers.add_parser("classifier", help="train and evaluate fastText quality classifiers")
    sub = parser.add_subparsers(dest="classifier_command", required=True)

    train = sub.add_parser(
        "train",
        help="train a DCLM-style fastText quality model (__label__hq vs __label__cc)",
        description="Train a fastText supervised model on good (--positive) and ordinary (--negative) documents "
        "and write MODEL.bin with MODEL.card.json beside it (data, counts, hyper-parameters, held-out metrics).",
    )
    train.add_argument("--positive", nargs="+", required=True, metavar="FILE", help="good documents (__label__hq)")
    train.add_argument("--negative", nargs="+", required=True, metavar="FILE", help="pool documents (__label__cc)")
    train.add_argument("--format", choices=FORMATS, default=None, help="input format (default: from the name)")
    train.add_argument("--text-key", default=None, help="jsonl/parquet field holding the text (default: text)")
    train.add_argument("--word-ngrams", type=int, default=2)
    train.add_argument("--dim", type=int, default=16)
    train.add_argument(
        "--epoch",
        type=int,
        default=50,
        help="passes over the data (50 suits thousands of documents; far fewer suffice for hundreds of thousands)",
    )
    train.add_argument("--lr", type=float, default=0.5, help="learning rate (halved and retried if training diverges)")
    train.add_argument("--threads", type=int, default=1, help="fastText threads (more than 1: not reproducible)")
    train.add_argument("--bucket", type=int, default=2_000_000, help="hash buckets for word n-grams")
    train.add_argument("--min-count", type=int, default=1)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--normalization", choices=SCHEMES, default="curate")
    train.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        help=f"read at most N characters as words (head and middle) (default {DEFAULT_MAX_CHARS}; 0: all)",
    )
    train.add_argument("--holdout", type=float, default=0.1, help="share held out for the card's metrics")
    train.add_argument("--quantize", action="store_true", help="quantize the model (a far smaller file)")
    train.add_argument(
        "--cutoff", type=int, default=0, help="with --quantize: keep only the N most useful words and n-grams"
    )
    train.add_argument(
        "--no-signal-head",
        dest="signal_head",
        action="store_false",
        help="score with fastText alone (default: a signal head weighs fastText's score with document signals "
        "such as length, sentence ends and capitals; fitting it trains --head-folds more fastText models)",
    )
    train.add_argument("--head-folds", type=int, default=5, help="folds for the signal head's out-of-fold scores")
    train.add_argument("--notes", default=None, help="free text for the model card")
    train.add_argument("--out", required=True, type=Path, metavar="MODEL.bin")
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser(
        "eval",
        help="precision/recall/F1, ROC-AUC and calibration of a model against labelled documents",
        description="Score labelled documents (jsonl with 'text' and 'label', 1 = good) with MODEL and report.",
    )
    ev.add_argument("--model", required=True, metavar="MODEL.bin")
    ev.add_argument("--data", required=True, metavar="LABELED")
    ev.add_argument("--label-key", default="label")
    ev.add_argument("--format", choices=FORMATS, default=None)
    ev.add_argument("--threshold", type=float, default=0.5)
    ev.add_argument("--bins", type=int, default=10, help="calibration bins")
    ev.add_argument("--normalization", choices=SCHEMES, default=None, help="override the model card")
    ev.add_argument("--max-chars", type=int, default=None, help="override the model card")
    ev.add_argument("--positive-label", default=None, help="override the model card (default __label__hq)")
    ev.add_argument("--json", default=None, metavar="FILE", help="also write the metrics as JSON")
    ev.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m classifiers.cli classifier train ...``) until the lead's CLI wires it."""
    parser = argparse.ArgumentParser(prog="curate")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["register_cli", "cmd_train", "cmd_eval", "holdout_split"]
