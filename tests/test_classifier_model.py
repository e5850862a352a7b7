"""fastText quality model: normalisation, training and evaluation from the CLI, scoring, metrics."""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from classifiers.cli import holdout_split, register_cli
from classifiers.fasttext_model import FastTextQualityModel, card_path
from classifiers.metrics import calibration_table, precision_recall_f1, roc_auc
from classifiers.text import normalize, split_punctuation

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ANNOTATIONS = SHARED / "quality" / "dclm-annotations-dev.jsonl"

BAD_TEXTS = [
    "",
    "   \n\t  \r\n ",
    "x" * 10_000_000,  # a 10 MB single line
    "Привет, мир. Это тест.\n日本語のテキストです。\nمرحبا بالعالم",
    "\x00\x01\x02\xff\ufffd binary \x1b[31m junk \x7f" * 50,
    "lone surrogate \ud800 inside\n\u2028line separator\x0bvertical tab\x0cform feed\x85nel",
]


def annotations() -> list[dict]:
    return [json.loads(line) for line in ANNOTATIONS.read_text().splitlines()]


def web_texts() -> list[str]:
    texts = []
    for path in sorted((SHARED / "web").rglob("*.jsonl*")):
        if "neardup" in path.name:
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="curate")
    register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A model trained through the CLI on the human-labelled DCLM pages, split into two files by label."""
    tmp = tmp_path_factory.mktemp("model")
    rows = annotations()
    for name, label in (("good.jsonl", 1), ("bad.jsonl", 0)):
        with open(tmp / name, "w") as fh:
            for r in rows:
                if r["label"] == label:
                    fh.write(json.dumps(r) + "\n")
    out = tmp / "model.bin"
    argv = ["classifier", "train", "--positive", str(tmp / "good.jsonl"), "--negative", str(tmp / "bad.jsonl")]
    assert run_cli(argv + ["--epoch", "20", "--holdout", "0.25", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("scheme", ["curate", "dclm"])
def test_normalize_bad_input_gives_one_line(scheme):
    for text in BAD_TEXTS:
        line = normalize(text, scheme, max_chars=1000)
        # fastText splits examples at \n; every other line break character must be gone too
        assert not any(c in line for c in "\n\r\x0b\x0c\x85\u2028\u2029"), repr(line[:80])
        assert len(line) < 1200


def test_curate_normalisation_keeps_layout():
    page = "Home\nAbout\nContact\nLogin\n" + "A real sentence that ends well. " * 3
    line = normalize(page, "curate", 1000)
    expected = "home __nl__ about __nl__ contact __nl__ login __nl__ a real sentence that ends well . a"
    assert line.split()[: len(expected.split())] == expected.split()
    tokens = line.split()
    # length of the whole document, lines, chars per line, share of sentence-like lines: three times each
    assert sum(t.startswith("__c") and not t.startswith("__cpl") for t in tokens) == 3
    assert tokens.count("__ep1") == 3  # 1 of 5 lines ends with a full stop -> 1/5
    # a long document is read as words only in part (its head and a slice of its middle), but the length token
    # sees the whole of it
    long_doc = "head " * 50 + "word " * 100_000 + "tail " * 50
    sampled = normalize(long_doc, "curate", 1000).split()
    assert sampled[:50] == ["head"] * 50 and "tail" not in sampled
    assert 190 <= sampled.count("head") + sampled.count("word") <= 200
    assert f"__c{len(long_doc.strip()).bit_length()}" in sampled
    assert normalize("Ends here.|Menu", "curate", 1000).split()[:6] == ["ends", "here", ".", "|", "menu", "__c4"]


def test_split_punctuation_equals_regex_substitution():
    """The fast split/join gives exactly what the plain ``re.sub`` would, on real pages and on junk."""
    import re

    reference = re.compile(r"([!-/:-@\[-`{-~])")
    for text in web_texts()[:200] + BAD_TEXTS[:2] + BAD_TEXTS[3:] + ["..a..", "|", "a|b||c", "«»—…"]:
        head = text[:5000]
        assert split_punctuation(head) == reference.sub(r" \1 ", head)


def test_dclm_scheme_matches_dclm_preparation():
    for r in annotations()[:50]:
        assert normalize(r["text"], "dclm", None) == " ".join(r["text"].strip().splitlines())


def test_train_writes_model_and_card(trained):
    card = json.loads(card_path(trained).read_text())
    assert card["labels"] == {"positive": "__label__hq", "negative": "__label__cc"}
    assert card["normalization"] == {"scheme": "curate", "max_chars": 1000}
    assert card["hyperparameters"]["word_ngrams"] == 2 and card["hyperparameters"]["epoch"] == 20
    c = card["counts"]
    assert c["read_positive"] == 162 and c["read_negative"] == 122
    assert c["positive"] + c["heldout_positive"] == 162 and c["negative"] + c["heldout_negative"] == 122
    assert c["heldout_positive"] > 20 and c["heldout_negative"] > 15
    m = card["metrics"]
    assert m["n"] == c["heldout_positive"] + c["heldout_negative"]
    # far better than chance on pages the model never saw (a length baseline gets about 0.78 here)
    assert m["roc_auc"] > 0.7
    assert sum(b["count"] for b in m["calibration"]["bins"]) == m["n"]


def test_eval_cli_reports_metrics(trained, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert run_cli(["classifier", "eval", "--model", str(trained), "--data", str(ANNOTATIONS), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ROC-AUC" in printed and "precision" in printed and "calibration" in printed
    assert "warning" not in printed  # trained on good.jsonl / bad.jsonl, evaluated on another file
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 284 and metrics["positives"] == 162
    assert 0.5 < metrics["roc_auc"] <= 1.0
    t = metrics["at_threshold"]
    assert t["tp"] + t["fp"] + t["fn"] + t["tn"] == 284


def test_eval_warns_when_the_data_is_the_training_data(capsys):
    from classifiers.quality_classifier import DEFAULT_MODEL

    assert run_cli(["classifier", "eval", "--model", str(DEFAULT_MODEL), "--data", str(ANNOTATIONS)]) == 0
    assert "measure fit, not quality" in capsys.readouterr().out


def test_batch_scores_equal_fasttext_predict(trained):
    """The batched scorer gives exactly fastText's own per-document ``predict`` probability."""
    model = FastTextQualityModel.load(trained)
    texts = web_texts()[:300] + BAD_TEXTS
    batch = model.score(texts)
    assert batch.shape == (len(texts),)
    reference = []
    for text in texts:
        labels, probs = model.fasttext.predict(model.prepare(text).encode("utf-8", "replace").decode(), k=2)
        reference.append(min(1.0, max(0.0, dict(zip(labels, probs, strict=True))["__label__hq"])))
    np.testing.assert_allclose(batch, reference, rtol=0, atol=1e-7)
    assert np.all((batch >= 0) & (batch <= 1))
    assert batch[:300].std() > 0.01  # the scores discriminate


def test_model_without_card_uses_dclm_preparation(trained, tmp_path):
    bare = tmp_path / "bare.bin"
    bare.write_bytes(trained.read_bytes())
    model = FastTextQualityModel.load(bare)
    assert (model.scheme, model.max_chars, model.positive_label) == ("dclm", None, "__label__hq")
    with pytest.raises(ValueError, match="positive label"):
        FastTextQualityModel.load(bare, positive_label="__label__wiki")
    with pytest.raises(FileNotFoundError):
        FastTextQualityModel.load(tmp_path / "missing.bin")


def test_roc_auc_is_the_pairwise_ranking_probability():
    rows = annotations()
    labels = [r["label"] for r in rows]
    scores = [round(len(r["text"]) / 1000) for r in rows]  # coarse: many ties
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    assert roc_auc(labels, scores) == pytest.approx(pairs / (len(pos) * len(neg)), abs=1e-12)
    with pytest.raises(ValueError):
        roc_auc([1, 1], [0.2, 0.3])


def test_precision_recall_and_calibration():
    labels = [1, 1, 1, 0, 0, 0, 0, 1]
    scores = [0.9, 0.8, 0.3, 0.6, 0.1, 0.2, 0.05, 0.55]
    m = precision_recall_f1(labels, scores, 0.5)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (3, 1, 1, 3)
    assert m["precision"] == pytest.approx(0.75) and m["recall"] == pytest.approx(0.75)
    cal = calibration_table(labels, scores, bins=2)
    assert [b["count"] for b in cal["bins"]] == [4, 4]
    assert cal["bins"][1]["positive_rate"] == pytest.approx(0.75)


def test_holdout_split_is_stable_and_disjoint():
    texts = [r["text"] for r in annotations()]
    train, held = holdout_split(texts, 0.2)
    assert (train, held) == holdout_split(list(reversed(texts))[::-1], 0.2)
    assert not set(train) & set(held) and len(train) + len(held) == len(texts)
    assert 0.1 < len(held) / len(texts) < 0.3
