"""fastText quality models, DCLM style: train one, load one with its card, score texts in batches.

A model is ``MODEL.bin`` plus ``MODEL.card.json`` beside it. The card records what the model was trained on and
how (data, counts, hyper-parameters, held-out metrics) and, above all, how texts must be normalised
(:mod:`classifiers.text`) and which label is the "good" one, so scoring prepares text exactly as training did.
A model without a card (DCLM's published one, say) is scored with the ``dclm`` scheme and ``__label__hq``.

A card may also hold a *signal head* (:mod:`classifiers.signal_head`): a logistic regression that turns the
fastText probability and a few cheap document signals (:mod:`classifiers.doc_signals`) into the final score.
``curate classifier train`` fits one by default, on out-of-fold fastText scores. The ``.bin`` alone stays a plain
fastText model that any fastText tool (datatrove's ``FastTextClassifierFilter``, DCLM's scripts) can load.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import random
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.doc_signals import document_signals
from classifiers.folds import stratified_folds, training_part
from classifiers.signal_head import SignalHead, fit_signal_head
from classifiers.text import DEFAULT_MAX_CHARS, DEFAULT_SCHEME, SCHEMES, normalize

POSITIVE_LABEL = "__label__hq"
NEGATIVE_LABEL = "__label__cc"
CARD_FORMAT = "curate-fasttext-quality/1"


def card_path(model_path: str | os.PathLike) -> Path:
    """``x/model.bin`` -> ``x/model.card.json``."""
    p = Path(model_path)
    return p.with_name(p.name.removesuffix(".bin").removesuffix(".ftz") + ".card.json")


def _load_fasttext(path: str):
    import fasttext

    # fasttext.load_model prints a deprecation warning on stderr for every load; _FastText is the same object
    return fasttext.FastText._FastText(model_path=path)


@dataclass
class FastTextQualityModel:
    """A loaded model and the normalisation its card prescribes. ``score`` is P(positive label).

    The C++ fastText model is not a dataclass field and is never copied: ``pickle``, ``copy.deepcopy`` and
    ``dataclasses.asdict`` (datatrove's executors do all three to the steps of a pipeline, even after a task ran
    in-process) see the path, the card and the head only, and the copy loads the model again on first use.
    """

    path: str
    scheme: str = "dclm"
    max_chars: int | None = None
    positive_label: str = POSITIVE_LABEL
    card: dict[str, Any] = field(default_factory=dict)
    head: SignalHead | None = None

    def __post_init__(self) -> None:
        # the C++ model is an attribute, not a dataclass field: datatrove's executor.json encoder runs
        # dataclasses.asdict() on the steps of a finished phase, which would try to deep-copy (pickle) it
        self._model: Any = None  # loaded from `path` on first use (see `fasttext`)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model"] = None  # pickled and deep-copied steps load the model again where they run
        return state

    @classmethod
    def from_trained(
        cls, model: Any, params: TrainParams, head: SignalHead | None = None, path: str = "<trained>"
    ) -> FastTextQualityModel:
        """Wrap a model just trained (not yet saved) so it scores exactly as it will once loaded."""
        scorer = cls(path=path, scheme=params.scheme, max_chars=params.max_chars, head=head)
        scorer._model = model
        return scorer

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        scheme: str | None = None,
        max_chars: int | None = None,
        positive_label: str | None = None,
    ) -> FastTextQualityModel:
        path = str(path)
        if not Path(path).is_file():
            raise FileNotFoundError(f"fastText model not found: {path}")
        cp = card_path(path)
        card = json.loads(cp.read_text()) if cp.is_file() else {}
        norm = card.get("normalization", {})
        model = cls(
            path=path,
            scheme=scheme or norm.get("scheme", "dclm"),
            max_chars=max_chars if max_chars is not None else norm.get("max_chars"),
            positive_label=positive_label or card.get("labels", {}).get("positive", POSITIVE_LABEL),
            card=card,
            head=SignalHead.from_card(card["signal_head"]) if card.get("signal_head") else None,
        )
        if model.scheme not in SCHEMES:
            raise ValueError(f"unknown normalisation scheme {model.scheme!r} in {cp}")
        model._model = _load_fasttext(path)
        labels = model._model.get_labels()
        if model.positive_label not in labels:
            raise ValueError(f"{path}: positive label {model.positive_label!r} is not among the model's {labels}")
        return model

    @property
    def fasttext(self):
        if self._model is None:
            self._model = _load_fasttext(self.path)
        return self._model

    def prepare(self, text: str) -> str:
        return normalize(text, self.scheme, self.max_chars)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """The model's score of each text: with a signal head, its combination of fastText's probability and the
        document signals; without, fastText's probability itself."""
        probs = self.fasttext_probs(texts)
        if self.head is None or not len(texts):
            return probs
        return self.head.combine(probs, np.array([document_signals(t) for t in texts]))

    def fasttext_probs(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) under the fastText model, in one call into its C++ (no Python per-label work per text)."""
        # the trailing \n is fastText's end-of-sentence token "</s>": every training line had it, and its public
        # predict() appends it too, so the scores are exactly predict()'s
        lines = [self.prepare(t) + "\n" for t in texts]
        try:
            labels, probs = self.fasttext.f.multilinePredict(lines, -1, 0.0, "strict")
        except (UnicodeEncodeError, TypeError):  # lone surrogates cannot cross into C++: replace them, retry
            lines = [line.encode("utf-8", "replace").decode("utf-8") for line in lines]
            labels, probs = self.fasttext.f.multilinePredict(lines, -1, 0.0, "strict")
        pos = self.positive_label
        out = np.empty(len(lines), dtype=np.float64)
        for i, (labs, ps) in enumerate(zip(labels, probs, strict=True)):
            # k=-1 gives every label, best first; fastText's softmax sums to 1 (up to its 1e-5 smoothing)
            out[i] = ps[0] if labs[0] == pos else (ps[labs.index(pos)] if pos in labs else 0.0)
        np.clip(out, 0.0, 1.0, out=out)
        return out

    def score_one(self, text: str) -> float:
        """Reference scoring of one text through fastText's public ``predict`` (what a naive loop does)."""
        labels, probs = self.fasttext.predict(self.prepare(text).encode("utf-8", "replace").decode(), k=-1)
        scores = dict(zip(labels, probs, strict=True))
        prob = min(1.0, max(0.0, scores.get(self.positive_label, 0.0)))
        if self.head is None:
            return float(prob)
        return float(self.head.combine(np.array([prob]), np.array([document_signals(text)]))[0])


@dataclass(frozen=True)
class TrainParams:
    """fastText supervised hyper-parameters (DCLM used word bigrams) and the normalisation scheme."""

    word_ngrams: int = 2
    dim: int = 16
    epoch: int = 50
    lr: float = 0.1
    bucket: int = 2_000_000
    min_count: int = 1
    seed: int = 0
    scheme: str = DEFAULT_SCHEME
    max_chars: int | None = DEFAULT_MAX_CHARS
    quantize: bool = False
    cutoff: int = 0  # quantize: keep this many words/ngrams (0: all)
    threads: int = 1  # 1: the same model on every run for the same data and seed
    retrain: bool = True  # quantize with a cutoff: retrain the kept rows (fastText's default advice)
    dsub: int = 2  # quantize: dimensions per sub-quantizer (1: one byte per dimension, nearly lossless)
    signal_head: bool = True  # fit a signal head (classifiers.signal_head) on out-of-fold fastText scores
    head_folds: int = 5  # folds for those out-of-fold scores (each trains one more fastText model)
    head_l2: float = 30.0  # the head's L2 penalty

    def fasttext_args(self) -> dict[str, Any]:
        return dict(
            wordNgrams=self.word_ngrams,
            dim=self.dim,
            epoch=self.epoch,
            lr=self.lr,
            bucket=self.bucket,
            minCount=self.min_count,
            seed=self.seed,
            thread=self.threads,
            verbose=0,
        )


def write_training_file(path: str, positives: Iterable[str], negatives: Iterable[str], params: TrainParams) -> dict:
    """Write fastText's ``__label__x text`` lines, shuffled with the params' seed; returns counts."""
    rows = [(POSITIVE_LABEL, t) for t in positives] + [(NEGATIVE_LABEL, t) for t in negatives]
    random.Random(params.seed).shuffle(rows)
    counts = {"positive": 0, "negative": 0, "skipped_empty": 0}
    with open(path, "w", encoding="utf-8", errors="replace") as fh:
        for label, text in rows:
            line = normalize(text, params.scheme, params.max_chars)
            if not line.strip():
                counts["skipped_empty"] += 1
                continue
            fh.write(f"{label} {line}\n")
            counts["positive" if label == POSITIVE_LABEL else "negative"] += 1
    return counts


M_PERTURB = -6  # glibc's mallopt() parameter: fill each allocation with (value ^ 0xFF)


@contextmanager
def _zero_filled_allocations() -> Iterator[None]:
    """While training, have glibc fill every allocation with zeros (``mallopt(M_PERTURB, 0xFF)``).

    fastText initialises only the first tenth of its input matrix per training thread (``uniformThread`` fills
    block ``i`` of ten) and leaves the rest as the allocator hands it over. A fresh large allocation is zeroed
    pages, but after other work in the same process a matrix of a few MB comes from recycled heap memory: the
    "uninitialised" rows then hold old bytes, training turns NaN at any learning rate, and the model depends on
    what ran before it (``tests/test_classifier_model.py`` shows both). Zero-filled, those rows always start at
    zero, as they do for a 2M-bucket model, and one seed gives one model. A no-op where there is no glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        set_perturb = libc.mallopt
    except (OSError, AttributeError):
        yield
        return
    set_perturb(M_PERTURB, 0xFF)
    try:
        yield
    finally:
        set_perturb(M_PERTURB, 0)


def train_model(positives: Sequence[str], negatives: Sequence[str], params: TrainParams):
    """Train a fastText model on the texts; returns ``(model, counts, used)`` (``used``: the lr and seed).

    fastText training sometimes diverges (``Encountered NaN``) on few examples; it then restarts with other seeds
    and lower rates, and ``used`` says which worked, so the card says what was really used.
    """
    import fasttext

    if not positives or not negatives:
        raise ValueError(f"need positive and negative examples (got {len(positives)} and {len(negatives)})")
    with tempfile.TemporaryDirectory(prefix="curate-ft-") as tmp:
        train_file = os.path.join(tmp, "train.txt")
        counts = write_training_file(train_file, positives, negatives, params)
        if not counts["positive"] or not counts["negative"]:
            raise ValueError(f"after normalisation a class is empty: {counts}")
        args = params.fasttext_args()
        for attempt in range(8):
            try:
                with _zero_filled_allocations():
                    model = fasttext.train_supervised(input=train_file, **args)
                model.predict("the")  # a diverged model trains "fine" and fails here, on its first use
                break
            except RuntimeError as e:
                if "NaN" not in str(e):
                    raise
                # divergence depends on the seed as much as on the rate (it happens with few hash buckets):
                # try the next seeds, then halve the rate; the card records what was used
                args["seed"] = params.seed + 1000 * (attempt + 1)
                if attempt >= 3:
                    args["lr"] /= 2
        else:
            raise RuntimeError("fastText training diverged (NaN) with 8 seeds and learning rates")
        if params.quantize:
            model.quantize(
                input=train_file,
                qnorm=True,
                retrain=params.retrain and params.cutoff > 0,
                cutoff=params.cutoff,
                dsub=params.dsub,
            )
    return model, counts, {"lr": args["lr"], "seed": args["seed"]}


def out_of_fold_probs(texts: Sequence[str], labels: Sequence[int], params: TrainParams, k: int) -> np.ndarray:
    """Each text's fastText probability from a model trained on the other ``k - 1`` stratified folds."""
    probs = np.zeros(len(texts))
    for test in stratified_folds(labels, k, params.seed):
        pos, neg = training_part(texts, labels, test)
        model, _, _ = train_model(pos, neg, replace(params, quantize=False))
        probs[test] = FastTextQualityModel.from_trained(model, params).fasttext_probs([texts[i] for i in test])
    return probs


def train_quality_model(positives: Sequence[str], negatives: Sequence[str], params: TrainParams):
    """The fastText model on every text and, if ``params.signal_head``, its signal head fitted on out-of-fold
    fastText scores (``params.head_folds`` extra trainings). Returns ``(model, head or None, counts, used)``.

    The out-of-fold models are not quantised: the head learns how far to trust the text model, and quantisation
    moves the scores too little to matter for that (it is cross-validated end to end in ``train_default``).
    """
    model, counts, used = train_model(positives, negatives, params)
    head = None
    if params.signal_head:
        if min(len(positives), len(negatives)) < params.head_folds:
            raise ValueError(
                f"a signal head needs at least head_folds={params.head_folds} documents of each class "
                f"(got {len(positives)} and {len(negatives)}); train without one (--no-signal-head)"
            )
        texts = list(positives) + list(negatives)
        labels = [1] * len(positives) + [0] * len(negatives)
        probs = out_of_fold_probs(texts, labels, params, params.head_folds)
        signals = np.array([document_signals(t) for t in texts])
        head = fit_signal_head(probs, signals, labels, params.head_l2)
    return model, head, counts, used


def build_card(
    params: TrainParams,
    data: dict[str, Any],
    counts: dict[str, int],
    used: dict[str, Any],
    metrics: dict[str, Any] | None,
    notes: str = "",
    head: SignalHead | None = None,
) -> dict[str, Any]:
    import fasttext

    score = "P(__label__hq) from fastText's softmax, in [0, 1]; higher is better"
    if head is not None:
        score = "P(good) from the signal head (fastText's P(__label__hq) and document signals), in [0, 1]"
    return {
        "format": CARD_FORMAT,
        "model_type": "fasttext-supervised" + (" + signal head" if head is not None else ""),
        "labels": {"positive": POSITIVE_LABEL, "negative": NEGATIVE_LABEL},
        "score": score,
        "normalization": {"scheme": params.scheme, "max_chars": params.max_chars},
        "hyperparameters": {
            "word_ngrams": params.word_ngrams,
            "dim": params.dim,
            "epoch": params.epoch,
            "lr": params.lr,
            "lr_used": used["lr"],
            "seed_used": used["seed"],
            "bucket": params.bucket,
            "min_count": params.min_count,
            "seed": params.seed,
            "quantized": params.quantize,
            "quantize_cutoff": params.cutoff,
            "quantize_dsub": params.dsub,
            "loss": "softmax",
            "signal_head": params.signal_head,
            "head_folds": params.head_folds if params.signal_head else None,
            "head_l2": params.head_l2 if params.signal_head else None,
        },
        "signal_head": head.to_card() if head is not None else None,
        "data": data,
        "counts": counts,
        "metrics": metrics or {},
        "notes": notes,
        "fasttext_module": getattr(fasttext, "__version__", "fasttext-numpy2"),
    }


def save_model(model, out: str | os.PathLike, card: dict[str, Any]) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
    cp = card_path(out)
    cp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    return cp
