"""fastText quality model: normalisation, training and evaluation from the CLI, scoring, metrics."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import load_web_corpus, write_jsonl

from classifiers.cli import holdout_split, register_cli
from classifiers.doc_signals import SIGNAL_NAMES, WINDOW, document_signals
from classifiers.fasttext_model import FastTextQualityModel, card_path
from classifiers.metrics import calibration_table, precision_recall_f1, roc_auc
from classifiers.signal_head import INPUTS, SignalHead, fit_signal_head
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
    """Every page of shared/data/web (the DCLM annotation pages left out: the models train on them)."""
    return [text for doc_id, text in load_web_corpus() if not doc_id.startswith(ANNOTATIONS.name)]


def train_argv(folder: Path, good: list[dict], bad: list[dict]) -> list[str]:
    """``classifier train`` reading ``good`` and ``bad`` rows, written as two jsonl files in ``folder``."""
    for name, rows in (("good.jsonl", good), ("bad.jsonl", bad)):
        write_jsonl(folder / name, rows)
    return ["classifier", "train", "--positive", str(folder / "good.jsonl"), "--negative", str(folder / "bad.jsonl")]


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
    out = tmp / "model.bin"
    argv = train_argv(tmp, [r for r in rows if r["label"] == 1], [r for r in rows if r["label"] == 0])
    assert run_cli(argv + ["--epoch", "20", "--holdout", "0.25", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("scheme", ["curate", "curate-layout", "dclm"])
def test_normalize_bad_input_gives_one_line(scheme):
    for text in BAD_TEXTS:
        line = normalize(text, scheme, max_chars=1000)
        # fastText splits examples at \n; every other line break character must be gone too
        assert not any(c in line for c in "\n\r\x0b\x0c\x85\u2028\u2029"), repr(line[:80])
        assert len(line) < 1200


def test_curate_normalisations_keep_layout():
    page = "Home\nAbout\nContact\nLogin\n" + "A real sentence that ends well. " * 3
    # "curate" is the same words without the 4 layout tokens (written 3 times)
    assert normalize(page, "curate", 1000).split() == normalize(page, "curate-layout", 1000).split()[:-12]
    line = normalize(page, "curate-layout", 1000)
    expected = "home __nl__ about __nl__ contact __nl__ login __nl__ a real sentence that ends well . a"
    assert line.split()[: len(expected.split())] == expected.split()
    tokens = line.split()
    # length of the whole document, lines, chars per line, share of sentence-like lines: three times each
    assert sum(t.startswith("__c") and not t.startswith("__cpl") for t in tokens) == 3
    assert tokens.count("__ep1") == 3  # 1 of 5 lines ends with a full stop -> 1/5
    # a long document is read as words only in part (its head and a slice of its middle), but the length token
    # sees the whole of it
    long_doc = "head " * 50 + "word " * 100_000 + "tail " * 50
    sampled = normalize(long_doc, "curate-layout", 1000).split()
    assert sampled[:50] == ["head"] * 50 and "tail" not in sampled
    assert 190 <= sampled.count("head") + sampled.count("word") <= 200
    assert f"__c{len(long_doc.strip()).bit_length()}" in sampled
    assert normalize("Ends here.|Menu", "curate-layout", 1000).split()[:6] == ["ends", "here", ".", "|", "menu", "__c4"]
    assert normalize("Ends here.|Menu", "curate", 1000) == "ends here .  | menu"


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
    assert card["normalization"] == {"scheme": "curate", "max_chars": 800}
    assert card["hyperparameters"]["word_ngrams"] == 2 and card["hyperparameters"]["epoch"] == 20
    c = card["counts"]
    assert c["read_positive"] == 162 and c["read_negative"] == 122
    assert c["positive"] + c["heldout_positive"] == 162 and c["negative"] + c["heldout_negative"] == 122
    assert c["heldout_positive"] > 20 and c["heldout_negative"] > 15
    head = card["signal_head"]
    assert head["inputs"] == list(INPUTS) and len(head["weights"]) == len(INPUTS)
    # fitted on out-of-fold scores, the head trusts fastText but not blindly: fastText and the signals both count
    assert head["weights"][0] > 0.3 and sum(abs(w) for w in head["weights"][1:]) > 0.3
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
    """The batched scorer gives exactly fastText's own per-document ``predict`` probability, and the final score
    is the signal head applied to it, document by document."""
    model = FastTextQualityModel.load(trained)
    assert model.head is not None
    texts = web_texts()[:300] + BAD_TEXTS
    probs = model.fasttext_probs(texts)
    assert probs.shape == (len(texts),)
    reference = []
    for text in texts:
        labels, ps = model.fasttext.predict(model.prepare(text).encode("utf-8", "replace").decode(), k=2)
        reference.append(min(1.0, max(0.0, dict(zip(labels, ps, strict=True))["__label__hq"])))
    np.testing.assert_allclose(probs, reference, rtol=0, atol=1e-7)
    batch = model.score(texts)
    np.testing.assert_allclose(batch, [model.score_one(t) for t in texts], rtol=0, atol=1e-9)
    assert np.all((batch >= 0) & (batch <= 1))
    assert batch[:300].std() > 0.01  # the scores discriminate
    assert not np.allclose(batch, probs, atol=0.01)  # and the head changed them
    assert model.score([]).shape == (0,)


def test_no_signal_head_scores_with_fasttext_alone(tmp_path):
    rows = annotations()[:120]
    out = tmp_path / "plain.bin"
    argv = train_argv(tmp_path, [r for r in rows if r["label"] == 1], [r for r in rows if r["label"] == 0])
    assert run_cli(argv + ["--epoch", "5", "--no-signal-head", "--out", str(out)]) == 0
    model = FastTextQualityModel.load(out)
    assert model.head is None and model.card["signal_head"] is None
    texts = [r["text"] for r in rows[:20]]
    np.testing.assert_array_equal(model.score(texts), model.fasttext_probs(texts))


def test_signal_head_needs_enough_documents_per_class(tmp_path, capsys):
    rows = annotations()
    argv = train_argv(tmp_path, [r for r in rows if r["label"] == 1], [r for r in rows if r["label"] == 0][:3])
    assert run_cli(argv + ["--epoch", "2", "--holdout", "0", "--out", str(tmp_path / "m.bin")]) == 2
    assert "head_folds=5" in capsys.readouterr().out and not (tmp_path / "m.bin").exists()


def test_document_signals_by_hand():
    text = "  The cat and THE dog.\nSome words of note to read\nA question?\n"
    log_chars, ends, word_len, upper, function = document_signals(text)
    stripped = text.strip()
    assert log_chars == pytest.approx(np.log1p(len(stripped)))
    assert ends == pytest.approx(2 / 3)  # "dog." and "question?" end 2 of 3 lines
    words = stripped.split()
    assert word_len == pytest.approx(sum(map(len, words)) / len(words))
    assert upper == pytest.approx(sum(c.isupper() for c in stripped) / len(stripped))
    # " and ", " THE " (any case): the leading "The" has no space before it and is not counted
    assert function == pytest.approx(2 / len(words))
    assert document_signals("") == (0.0,) * len(SIGNAL_NAMES)
    assert document_signals(" \n\t ") == (0.0,) * len(SIGNAL_NAMES)


def test_document_signals_are_bounded_and_survive_bad_input():
    """Past the length, only the first WINDOW characters count: a 10 MB document costs what its head does."""
    head = "A line that ends.\n" * (WINDOW // 18 + 1)
    short, long = document_signals(head), document_signals(head + "x" * 10_000_000)
    assert long[0] > short[0] and long[1:] == short[1:]
    for text in BAD_TEXTS:
        values = document_signals(text)
        assert len(values) == len(SIGNAL_NAMES) and all(np.isfinite(values))


def test_signal_head_fit_and_card_round_trip():
    rng = np.random.default_rng(0)
    n = 400
    labels = rng.integers(0, 2, n)
    signals = rng.normal(size=(n, len(SIGNAL_NAMES)))
    signals[:, 3] -= 1.5 * labels  # good documents shout less
    probs = np.clip(0.5 + 0.2 * (labels - 0.5) + rng.normal(scale=0.2, size=n), 0.01, 0.99)
    head = fit_signal_head(probs, signals, labels)
    weights = dict(zip(head.inputs, head.weights, strict=True))
    assert weights["uppercase_share"] < -0.5 and weights["fasttext_logit"] > 0.1
    assert abs(weights["log_chars"]) < 0.2  # noise gets little weight
    assert roc_auc(labels, head.combine(probs, signals)) > max(roc_auc(labels, probs), roc_auc(labels, -signals[:, 3]))
    again = SignalHead.from_card(json.loads(json.dumps(head.to_card())))
    np.testing.assert_array_equal(again.combine(probs, signals), head.combine(probs, signals))
    with pytest.raises(ValueError, match="retrain"):
        SignalHead.from_card({**head.to_card(), "inputs": ["fasttext_logit", "something_else"]})
    with pytest.raises(ValueError, match="matrix"):
        head.combine(probs, signals[:, :2])


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


def test_small_models_train_the_same_in_a_dirty_process():
    """fastText leaves most of its input matrix as the allocator hands it over; after other work in the same
    process a few-MB matrix comes from recycled heap memory. Trained after the heap was filled with junk, a model
    must still be the seed's model every time (it was NaN or different before ``_zero_filled_allocations``)."""
    from classifiers.fasttext_model import TrainParams, train_model

    rows = annotations()
    pos = [r["text"] for r in rows if r["label"] == 1][:80]
    neg = [r["text"] for r in rows if r["label"] == 0][:60]
    texts = [r["text"] for r in rows[-40:]]
    params = TrainParams(bucket=100_000, dim=8, epoch=20, lr=0.5, signal_head=False)
    seen = []
    for _ in range(3):
        for _ in range(3):  # 4 MB blocks of 0xd5 bytes, freed back into the heap
            junk = [bytearray(b"\xd5" * 4_000_000) for _ in range(4)]
            del junk
        model, _, used = train_model(pos, neg, params)
        assert used == {"lr": 0.5, "seed": 0}  # no NaN restart
        seen.append(FastTextQualityModel.from_trained(model, params).fasttext_probs(texts))
    np.testing.assert_array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(seen[0], seen[2])
    assert 0.05 < seen[0].std()  # a trained model, not a saturated one


def test_default_recipe_cross_validates_above_target():
    """The shipped model's recipe, re-measured here: nested 5-fold cross-validation on the human judgements (one
    fold seed) reaches the 0.85 ROC-AUC target and beats the document-length baseline and fastText alone."""
    from classifiers.train_default import DEFAULT_PARAMS, cross_validate

    rows = annotations()
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    cv = cross_validate(texts, labels, DEFAULT_PARAMS, k=5, seeds=[0])
    assert cv["roc_auc_mean"] >= 0.85
    assert cv["roc_auc_mean"] > roc_auc(labels, [len(t) for t in texts]) + 0.05
    assert cv["roc_auc_mean"] > cv["fasttext_alone_roc_auc_mean"] + 0.02
