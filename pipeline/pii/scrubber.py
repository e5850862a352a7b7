"""The ``pii`` stage's parameters and the scrubber: find PII with Presidio's analyzer, rewrite it with its anonymizer.

Actions (``action``), each written by presidio-anonymizer's own operator:

* ``replace`` (default): the entity's tag, ``<EMAIL_ADDRESS>``, as presidio-anonymizer's ``replace`` writes it.
* ``mask``: every character of the entity becomes ``mask_char`` (``*``), so lengths are kept.
* ``hash``: ``<EMAIL_ADDRESS:3fa2c1d09be4a7e1>``: the tag and the first ``hash_chars`` hex digits of
  ``sha256(entity_text + salt)``, computed by presidio-anonymizer's ``hash`` operator with that salt. The same
  value gives the same digest in every run and on every machine, so repeated addresses stay linkable without
  being readable. ``salt`` (16 characters or more, kept secret) is required: with a public salt anyone could hash
  guessed phone numbers or SSNs and match the digests, so a recipe with ``action: hash`` and no ``salt`` is
  refused. The salt is never shown in the step's ``repr`` (datatrove writes the steps to ``logs/*/executor.json``).
* ``redact``: the entity is removed.

Overlapping spans of different types are resolved with presidio-anonymizer's ``REMOVE_INTERSECTIONS``: the
higher-scored span wins the overlap and the other one is trimmed, so every character that any detected span
covers is rewritten and no piece of a detected entity survives.

What is scrubbed: the text and, unless ``scrub_metadata: false``, every string a document carries into the
output: its ``url``, the record's original fields (the ``metadata`` column) and every value the stages computed
(typed columns and the ``attributes`` JSON), keys of mappings included. Curate's own bookkeeping keys (source
name, read order, drop reason, ``duplicate_of``) are left alone: they name sources and ids, not people.

Metadata strings are scanned as text and then piece by piece between URL delimiters, percent-decoded
(``Scrubber.scrub_field``): Presidio rejects an e-mail address glued to a URL path, and cannot read an encoded one.

``build_scrubber(params)`` returns ``text -> scrubbed text`` (with ``scrub_field`` and ``scrub_document_metadata``
for the rest of a document) with the same detection and action as the stage; the runtime applies it to the drop
ledger of the stages before the ``pii`` stage, and the report to its examples (``detection_params``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus

import regex
from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipeline.document import FILTER_REASON, READ_ORDER, SOURCE
from pipeline.pii import DEFAULT_ENTITIES
from pipeline.registry import StageParams

# metadata keys that are Curate's bookkeeping, not document content: never rewritten (dedup matches on them)
BOOKKEEPING_KEYS = frozenset({SOURCE, READ_ORDER, FILTER_REASON, "file_path", "duplicate_of"})
# what the report needs to detect as the stage did (never the salt: it must not be written next to the digests)
DETECTION_KEYS = ("entities", "score_threshold", "allow_list", "allow_list_match", "language", "spacy_model")
URL_DELIMITERS = regex.compile(r"[/?&=#;]")
URL_PIECE = regex.compile(r"[^/?&=#;]+")
DETECTION_FILE = "pii.json"  # under OUTPUT/work/<label>/, written by the stage, read by the report


class PiiParams(StageParams):
    """Parameters of the ``pii`` stage (see the module docstring for the actions)."""

    entities: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTITIES), min_length=1)
    action: Literal["replace", "mask", "hash", "redact"] = "replace"
    score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    allow_list: list[str] = Field(default_factory=list)
    allow_list_match: Literal["exact", "regex"] = "exact"
    salt: str | None = Field(default=None, min_length=16, repr=False, validate_default=True)
    hash_chars: int = Field(default=16, ge=8, le=64)
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    language: str = "en"
    spacy_model: str | None = None  # a spaCy package name or saved pipeline path; needed for PERSON, LOCATION, ...
    scrub_metadata: bool = True  # also scrub url, the original fields and computed string values

    @field_validator("salt")
    @classmethod
    def _own_salt_for_hash(cls, salt: str | None, info: ValidationInfo) -> str | None:
        if salt is None and info.data.get("action") == "hash":
            raise ValueError(
                "action 'hash' needs a salt of your own (16+ characters, kept secret): with a known salt anyone "
                "can hash guessed phone numbers, SSNs or e-mail addresses and match the digests"
            )
        return salt

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

    def scrub_field(self, value: str) -> tuple[str, Counter]:
        """A metadata string (a URL, a title, a field of the record): scrubbed as text, then piece by piece.

        Presidio's e-mail recognizer validates the whole run of e-mail-like characters around an ``@``, so an
        address glued to a URL path (``/u?mail=jane@example.org``) is rejected, and a percent-encoded value is not
        read at all. So after the whole string, each piece between URL delimiters (``/ ? & = # ;``) is scrubbed
        on its own, percent-decoded when it holds a ``%`` or ``+``, and a piece with PII is replaced by its
        scrubbed form. This only ever adds findings to Presidio's."""
        scrubbed, counts = self.scrub(value)
        if not scrubbed or not URL_DELIMITERS.search(scrubbed):
            return scrubbed, counts

        def piece(match: regex.Match) -> str:
            raw = match.group(0)
            for candidate in dict.fromkeys((raw, unquote(raw), unquote_plus(raw))):
                out, found = self.scrub(candidate)
                if found:
                    counts.update(found)
                    return out
            return raw

        return URL_PIECE.sub(piece, scrubbed), counts

    def scrub_value(self, value: Any) -> tuple[Any, Counter]:
        """Scrub every string inside a JSON-like value (dicts, lists, strings); other values are kept."""
        if isinstance(value, str):
            return self.scrub_field(value)
        counts: Counter = Counter()
        if isinstance(value, dict):
            return self.scrub_key_values(value)
        if isinstance(value, list | tuple):
            items = []
            for item in value:
                scrubbed, found = self.scrub_value(item)
                items.append(scrubbed)
                counts += found
            return type(value)(items), counts
        return value, counts

    def scrub_key_values(self, mapping: dict) -> tuple[dict, Counter]:
        """A copy of ``mapping`` with every string scrubbed, keys included."""
        counts: Counter = Counter()
        out = {}
        for key, value in mapping.items():
            value, found = self.scrub_value(value)
            counts += found
            if isinstance(key, str):
                key, found = self.scrub_field(key)
                counts += found
            out[key] = value
        return out, counts

    def scrub_document_metadata(self, metadata: dict) -> tuple[dict, Counter]:
        """``doc.metadata`` as it may be written: url, original fields and computed values scrubbed.

        Keys of ``metadata`` itself are Curate's column names and stage labels, never scrubbed; keys inside
        values (the original record's nested fields) are."""
        counts: Counter = Counter()
        out = dict(metadata)
        for key, value in metadata.items():
            if key in BOOKKEEPING_KEYS or value is None or isinstance(value, bool | int | float):
                continue
            out[key], found = self.scrub_value(value)
            counts += found
        return out, counts

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


def detection_params(params: PiiParams) -> dict[str, Any]:
    """The parameters that decide what is found (not how it is rewritten, never the salt)."""
    return params.model_dump(mode="json", include=set(DETECTION_KEYS))


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
