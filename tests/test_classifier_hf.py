"""``hf_classifier`` on tiny BERT models built and saved locally (no download), FineWeb-Edu layout included."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from datatrove.data import Document  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from classifiers.hf_classifier import HFClassifierFilter, int_score  # noqa: E402
from pipeline.registry import StageContext, get_stage  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CTX = StageContext(name="hf_classifier", label="hf_classifier", output_dir="/tmp/o", work_dir="/tmp/w", tasks=1)


def texts() -> list[str]:
    with gzip.open(SHARED / "web" / "cleaneval-gold-dev.jsonl.gz", "rt") as fh:
        rows = [json.loads(line)["text"] for _, line in zip(range(40), fh, strict=False)]
    return rows + ["", "   ", "x" * 2_000_000, "Привет мир 日本語 مرحبا", "\x00\x01 junk \ufffd"]


def build_model(folder: Path, num_labels: int, shift_to_median: float | None = None) -> Path:
    """A 1-layer BERT with a word-level vocabulary of the sample's most common words, saved with its tokenizer."""
    from collections import Counter

    words = Counter(w for t in texts() for w in t.lower().split())
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [w for w, _ in words.most_common(500)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        initializer_range=0.5,  # a random model with the default 0.02 gives every text the same output
        num_labels=num_labels,
        problem_type="regression" if num_labels == 1 else "single_label_classification",
        id2label={i: name for i, name in enumerate(["bad", "good"][:num_labels] if num_labels > 1 else ["score"])},
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config).eval()
    if shift_to_median is not None:
        # move the raw outputs so that about half the documents land on each side of int_score 3
        enc = tokenizer(texts(), truncation=True, max_length=64, padding=True, return_tensors="pt")
        with torch.no_grad():
            model.classifier.weight *= 20  # spread the scores over several integer values
            raw = model(**enc).logits[:, 0]
            model.classifier.bias += shift_to_median - raw.median()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def reference_scores(folder: Path, batch: list[str], max_length: int) -> list[float]:
    """transformers' own text-classification pipeline, one document at a time, raw outputs."""
    pipe = transformers.pipeline("text-classification", model=str(folder), device="cpu")
    out = [pipe(t[: max_length * 32], truncation=True, max_length=max_length, function_to_apply="none") for t in batch]
    return [o[0]["score"] if isinstance(o, list) else o["score"] for o in out]


def test_regression_head_fineweb_edu_rule(tmp_path):
    folder = build_model(tmp_path / "edu", num_labels=1, shift_to_median=2.7)
    spec = get_stage("hf_classifier")
    step = spec.factory(spec.params.model_validate({"model": str(folder), "max_length": 64, "batch_size": 8}), CTX)
    assert isinstance(step, HFClassifierFilter)
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts())]
    results = []
    for start in range(0, len(docs), 8):
        results += step.filter_batch(docs[start : start + 8])
    scores = [d.metadata["hf_score"] for d in docs]
    ref = reference_scores(folder, [d.text for d in docs], 64)
    assert scores == pytest.approx(ref, abs=1e-4)  # batched and padded = one by one
    for doc, res in zip(docs, results, strict=True):
        assert doc.metadata["hf_int_score"] == int(round(max(0, min(doc.metadata["hf_score"], 5))))
        assert (res is True) == (doc.metadata["hf_int_score"] >= 3)
        if res is not True:
            assert res == (False, "below_min_int_score")
    kept = sum(r is True for r in results)
    assert 0 < kept < len(docs)
    assert len({d.metadata["hf_int_score"] for d in docs}) >= 2


def test_classification_head_scores_positive_probability(tmp_path):
    folder = build_model(tmp_path / "cls", num_labels=2)
    spec = get_stage("hf_classifier")
    params = spec.params.model_validate({"model": str(folder), "max_length": 64, "threshold": 0.5})
    step = spec.factory(params, CTX)
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts()[:12])]
    results = step.filter_batch(docs)
    pipe = transformers.pipeline("text-classification", model=str(folder), device="cpu", top_k=None)
    for doc, res in zip(docs, results, strict=True):
        out = pipe(doc.text, truncation=True, max_length=64)
        out = out[0] if isinstance(out[0], list) else out
        ref = {o["label"]: o["score"] for o in out}
        assert doc.metadata["hf_score"] == pytest.approx(ref["good"], abs=1e-5)
        assert "hf_int_score" not in doc.metadata
        assert (res is True) == (doc.metadata["hf_score"] >= 0.5)
    with pytest.raises(ValueError, match="positive_label"):
        bad = spec.factory(spec.params.model_validate({"model": str(folder), "positive_label": "great"}), CTX)
        bad.filter_batch(docs[:1])


def test_int_score_matches_fineweb_edu():
    assert [int_score(s) for s in (-1.2, 0.49, 2.5, 2.51, 3.49, 4.7, 7.0)] == [0, 0, 2, 3, 3, 5, 5]


def test_model_must_be_a_local_folder(tmp_path):
    spec = get_stage("hf_classifier")
    with pytest.raises(ValidationError, match="local model folder"):
        spec.params.model_validate({"model": "HuggingFaceFW/fineweb-edu-classifier"})
    with pytest.raises(ValidationError):
        spec.params.model_validate({"model": str(tmp_path)})
