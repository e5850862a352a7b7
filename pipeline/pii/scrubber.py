"""The ``pii`` stage's parameters and the scrubber: find PII with Presidio's analyzer, rewrite it with its anonymizer.

Actions (``action``), each written by presidio-anonymizer's own operator:

* ``replace`` (default): the entity's tag, ``<EMAIL_ADDRESS>``, as presidio-anonymizer's ``replace`` writes it.
* ``mask``: every character of the entity becomes ``mask_char`` (``*``), so lengths are kept.
* ``hash``: ``<EMAIL_ADDRESS:3fa2c1d09be4a7e1>``: the tag and the first ``hash_chars`` hex digits of
  ``sha256(entity_text + salt)``, computed by presidio-anonymizer's ``hash`` operator with that salt. The same
  value gives the same digest in every run and on every machine, so repeated addresses stay linkable without
  being readable. The default salt is public (``DEFAULT_SALT``); set your own (16 characters or more) so digests
  cannot be matched against hashes of guessed values.
* ``redact``: the entity is removed.

Overlapping spans of different types are resolved with presidio-anonymizer's ``REMOVE_INTERSECTIONS``: the
higher-scored span wins the overlap and the other one is trimmed, so every character that any detected span
covers is rewritten and no piece of a detected entity survives.

``build_scrubber(params)`` returns ``text -> scrubbed text`` with the same detection and action as the stage;
the runtime applies it to the drop-ledger text of documents dropped before the ``pii`` stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

import regex
from pydantic import Field, model_validator

from pipeline.pii import DEFAULT_ENTITIES
from pipeline.registry import StageParams

DEFAULT_SALT = "curate-pii-default-salt-v1"  # public: set your own salt in the recipe


class PiiParams(StageParams):
    """Parameters of the ``pii`` stage (see the module docstring for the actions)."""

    entities: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTITIES), min_length=1)
    action: Literal["replace", "mask", "hash", "redact"] = "replace"
    score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    allow_list: list[str] = Field(default_factory=list)
    allow_list_match: Literal["exact", "regex"] = "exact"
    salt: str = Field(default=DEFAULT_SALT, min_length=16)
    hash_chars: int = Field(default=16, ge=8, le=64)
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    language: str = "en"
    spacy_model: str | None = None  # a spaCy package name or saved pipeline path; needed for PERSON, LOCATION, ...
    scrub_metadata: bool = True  # also scrub the string values of the record's original fields

    @model_validator(mode="after")
    def _regexes_compile(self) -> PiiParams:
        if self.allow_list_match == "regex":
            for pattern in self.allow_list:
                try:
                    regex.compile(pattern)
                except regex.error as e:
                    raise ValueError(f"allow_list pattern {pattern!r} is not a valid regex: {e}") from e
        return self


def _operators(params: PiiParams) -> dict[str, Any]:
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_anonymizer.operators import Hash

    if params.action == "replace":
        return {"DEFAULT": OperatorConfig("replace")}
    if params.action == "redact":
        return {"DEFAULT": OperatorConfig("redact")}
    if params.action == "mask":
        return {
            "DEFAULT": OperatorConfig(
                "mask", {"masking_char": params.mask_char, "chars_to_mask": 1 << 30, "from_end": False}
            )
        }
    hasher = Hash()
    salt, width = params.salt, params.hash_chars

    def tagged_hash(entity_type: str) -> Callable[[str], str]:
        def operate(text: str) -> str:
            digest = hasher.operate(text, {"salt": salt, "hash_type": "sha256"})
            return f"<{entity_type}:{digest[:width]}>"

        return operate

    operators = {entity: OperatorConfig("custom", {"lambda": tagged_hash(entity)}) for entity in params.entities}
    operators["DEFAULT"] = OperatorConfig("custom", {"lambda": tagged_hash("PII")})
    return operators


class Scrubber:
    """Finds PII with ``FastAnalyzer`` (Presidio's spans, faster) and rewrites it with presidio-anonymizer."""

    def __init__(self, params: PiiParams):
        from presidio_anonymizer import AnonymizerEngine

        from pipeline.pii.detect.analyzer import (
            FastAnalyzer,  # imports Presidio (and spaCy): only when a recipe needs it
        )

        self.params = params
        self.analyzer = FastAnalyzer(
            entities=params.entities,
            language=params.language,
            score_threshold=params.score_threshold,
            allow_list=params.allow_list,
            allow_list_match=params.allow_list_match,
            spacy_model=params.spacy_model,
        )
        self.anonymizer = AnonymizerEngine()
        self.operators = _operators(params)

    def find(self, text: str) -> list:
        """Presidio's analyzer results for ``text``."""
        return self.analyzer.analyze(text)

    def apply(self, text: str, results: list) -> str:
        """``text`` with every span of ``results`` rewritten by the configured action.

        presidio-anonymizer rebuilds the text once per entity, which is quadratic on a text with thousands of
        entities. Its conflict resolution and merging only ever combine spans that overlap or are separated by
        spaces alone, so the spans are split into such clusters and each cluster is anonymized on its own: the
        output is the same, in linear time.
        """
        if not results:
            return text
        if len(results) <= 64:
            return self._anonymize(text, results)
        ordered = sorted(results, key=lambda r: (r.start, r.end))
        pieces: list[str] = []
        done = 0
        cluster = [ordered[0]]
        cluster_end = ordered[0].end
        for result in ordered[1:]:
            gap = text[cluster_end : result.start]
            if result.start <= cluster_end or gap.strip(" ") == "":
                cluster.append(result)
                cluster_end = max(cluster_end, result.end)
                continue
            pieces.append(self._cluster(text, cluster, cluster_end, done))
            done = cluster_end
            cluster, cluster_end = [result], result.end
        pieces.append(self._cluster(text, cluster, cluster_end, done))
        pieces.append(text[cluster_end:])
        return "".join(pieces)

    def _cluster(self, text: str, cluster: list, end: int, done: int) -> str:
        from presidio_anonymizer.entities import RecognizerResult

        start = cluster[0].start
        shifted = [RecognizerResult(r.entity_type, r.start - start, r.end - start, r.score) for r in cluster]
        return text[done:start] + self._anonymize(text[start:end], shifted)

    def _anonymize(self, text: str, results: list) -> str:
        from presidio_anonymizer.entities import ConflictResolutionStrategy

        return self.anonymizer.anonymize(
            text=text,
            analyzer_results=results,
            operators=dict(self.operators),
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        ).text

    def scrub(self, text: str) -> tuple[str, Counter]:
        """The scrubbed text and the number of spans found per entity type."""
        if not isinstance(text, str) or not text:
            return text, Counter()
        results = self.find(text)
        return self.apply(text, results), Counter(r.entity_type for r in results)

    def scrub_value(self, value: Any) -> tuple[Any, Counter]:
        """Scrub every string inside a JSON-like value (dicts, lists, strings); other values are kept."""
        if isinstance(value, str):
            return self.scrub(value)
        counts: Counter = Counter()
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                out[key], found = self.scrub_value(item)
                counts += found
            return out, counts
        if isinstance(value, list | tuple):
            items = []
            for item in value:
                scrubbed, found = self.scrub_value(item)
                items.append(scrubbed)
                counts += found
            return type(value)(items), counts
        return value, counts

    def __call__(self, text: str) -> str:
        return self.scrub(text)[0]

    # One scrubber per parameters and process (``shared_scrubber``): the ``pii`` stage and the drop ledgers it
    # scrubs share its engine and caches. Executors deep-copy (one process) or pickle (workers) the steps that
    # hold it: a copy is the same object, a pickle is the parameters, rebuilt once in the receiving process.
    def __deepcopy__(self, memo: dict) -> Scrubber:
        return self

    def __reduce__(self):
        return shared_scrubber, (self.params,)


_SHARED: dict[str, Scrubber] = {}


def shared_scrubber(params: PiiParams) -> Scrubber:
    """The process's scrubber for ``params``, built on first use."""
    key = params.model_dump_json()
    if key not in _SHARED:
        _SHARED[key] = Scrubber(params)
    return _SHARED[key]


def build_scrubber(params: PiiParams | dict | None = None) -> Callable[[str], str]:
    """``text -> scrubbed text`` with the same detection and action as a ``pii`` stage with these parameters.

    For the runtime: a recipe with a ``pii`` stage must not write raw text anywhere, including the drop ledger of
    the stages before it; pass the ``pii`` stage's parameter mapping here and apply the result to that text.
    """
    if params is None:
        params = PiiParams()
    elif isinstance(params, dict):
        params = PiiParams(**params)
    return shared_scrubber(params)
