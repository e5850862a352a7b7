"""Per-language filter settings: FineWeb-2's published configs, calibrated threshold files, ``language: auto``.

``thresholds: fineweb2`` on ``gopher_repetition``, ``fineweb_quality`` and ``gopher_quality`` gives datatrove's
filter exactly the parameters FineWeb-2's pipeline script (``fineweb-2-pipeline.py``) gives it for the language:

* ``gopher_repetition``: ``dup_line_frac``, ``top_n_grams``, ``dup_n_grams`` from the config; ``dup_para_frac``,
  ``dup_line_char_frac`` and ``dup_para_char_frac`` 0 (off);
* ``fineweb_quality``: ``line_punct_thr``, ``new_line_ratio`` from the config; ``short_line_thr`` 999 (off) and
  ``char_duplicates_ratio`` 0.1;
* ``gopher_quality``: ``min/max_avg_word_length``, ``max_non_alpha_words_ratio`` and ``stop_words`` from the
  config, ``min_stop_words`` 2; every other parameter at datatrove's default.

FineWeb-2 ran no C4 filter and no length filter: on ``c4_quality`` and ``length_filter`` the setting only picks the
language's word tokenizer. English (``eng_Latn``, which FineWeb-2 left to FineWeb) gets the filters' defaults,
which are FineWeb's English settings. ``thresholds: <file>`` reads a file written by ``curate calibrate`` (or by
hand): ``languages: {<language>: {<stage>: {<parameter>: value}}}``. Parameters written in the recipe override
loaded ones, for every language.

``language: auto`` takes each document's language from ``language_filter``'s ``language`` (and
``language_script``) metadata and applies that language's settings and word tokenizer. A document whose language
has no settings (or no word tokenizer Curate can load offline) is kept or dropped as ``unconfigured_language``
says, and counted (``unconfigured_language/<code>``) either way.
"""

from __future__ import annotations

import os
from functools import cache, lru_cache
from typing import Any, Literal

import yaml
from datatrove.data import Document
from pydantic import BaseModel

from pipeline.filters.languages import AUTO, document_language, fineweb2_configs, resolve_language
from pipeline.filters.signal_filter import SignalFilter

FINEWEB2 = "fineweb2"
UnconfiguredAction = Literal["keep", "drop"]
UNCONFIGURED_REASON = "unconfigured_language"
ENGLISH = "eng_Latn"
# fields every language-aware stage has that say how to configure, never what to threshold
SETTING_FIELDS = frozenset({"language", "thresholds", "unconfigured_language", "record_signals"})


def fineweb2_parameters(stage: str, code: str) -> dict[str, Any] | None:
    """The parameters FineWeb-2's script passes to ``stage``'s datatrove filter for ``code``; None: no config."""
    if code == ENGLISH:
        return {}
    config = fineweb2_configs().get(code)
    if config is None:
        return None
    if stage == "gopher_repetition":
        return {
            "dup_para_frac": 0,
            "dup_line_char_frac": 0,
            "dup_para_char_frac": 0,
            "dup_line_frac": config["dup_line_frac"],
            "top_n_grams": config["top_n_grams"],
            "dup_n_grams": config["dup_n_grams"],
        }
    if stage == "fineweb_quality":
        return {
            "short_line_thr": 999,
            "char_duplicates_ratio": 0.1,
            "line_punct_thr": config["line_punct_thr"],
            "new_line_ratio": config["new_line_ratio"],
        }
    if stage == "gopher_quality":
        return {
            "max_avg_word_length": config["max_avg_word_length"],
            "min_avg_word_length": config["min_avg_word_length"],
            "stop_words": config["stopwords"],
            "max_non_alpha_words_ratio": config["max_non_alpha_words_ratio"],
            "min_stop_words": 2,
        }
    return {}


@lru_cache(maxsize=16)
def load_threshold_file(path: str) -> dict[str, dict[str, dict[str, Any]]]:
    """A thresholds file: ``{language code: {stage: {parameter: value}}}`` with language names resolved."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, dict):
        raise ValueError(f"thresholds file {path}: expected a mapping 'languages: {{<language>: {{<stage>: ...}}}}'")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, stages in languages.items():
        if not isinstance(stages, dict):
            raise ValueError(f"thresholds file {path}: languages.{name} must map stage names to parameters")
        out[resolve_language(str(name))] = {str(k): dict(v or {}) for k, v in stages.items()}
    return out


def check_thresholds(value: str | None, key: str = "thresholds") -> None:
    """A recipe error naming the key when ``thresholds`` is neither ``fineweb2`` nor a readable file."""
    if value is None or value == FINEWEB2:
        return
    if not os.path.isfile(value):
        raise ValueError(f"{key}: {value!r} is neither 'fineweb2' nor a thresholds file (no such file)")
    load_threshold_file(value)


def loaded_parameters(thresholds: str | None, stage: str, code: str) -> dict[str, Any] | None:
    """The loaded parameters of ``stage`` for language ``code`` ({} without ``thresholds``); None: no settings."""
    if thresholds is None:
        return {}
    if thresholds == FINEWEB2:
        return fineweb2_parameters(stage, code)
    stages = load_threshold_file(thresholds).get(code)
    if stages is None:
        return None
    return stages.get(stage, {})


def tokenizer_available(language: str) -> bool:
    """Whether datatrove's word tokenizer for ``language`` loads and runs here, offline."""
    return _tokenizer_error(language) is None


@cache
def _tokenizer_error(language: str) -> str | None:
    from datatrove.utils.word_tokenizers import StanzaTokenizer, load_word_tokenizer

    from pipeline.filters.word_analysis import chunk_tokenizer

    try:
        if chunk_tokenizer(language) is not None:  # its spacy.blank pipeline loaded: datatrove's would (same call)
            return None
        tokenizer = load_word_tokenizer(language)
        if isinstance(tokenizer, StanzaTokenizer):  # its models are downloaded at first use: never here
            return "stanza models are downloaded at run time, which Curate does not do"
        tokenizer.word_tokenize("a")
    except Exception as e:  # missing optional package, unknown language, ...
        return f"{type(e).__name__}: {e}"
    return None


class LanguageSettings:
    """The stage parameters to use per document language, built once per language."""

    def __init__(self, stage: str, params: BaseModel):
        self.stage = stage
        self.params = params
        self.auto = params.language == AUTO
        self._explicit = {k: getattr(params, k) for k in params.model_fields_set if k not in SETTING_FIELDS}
        self._by_language: dict[str, BaseModel | None] = {}
        check_thresholds(params.thresholds, f"{stage}.thresholds")
        if params.language is None:  # length_filter without a language: whitespace words, nothing to load
            if params.thresholds is not None:
                raise ValueError(f"{stage}.thresholds: needs a language (or language: auto)")
            self.fixed = params
        elif not self.auto:
            language = params.language
            fixed = self._build(language)
            if fixed is None:
                raise ValueError(self._missing_message(language))
            self.fixed = fixed

    def _missing_message(self, language: str) -> str:
        error = _tokenizer_error(resolve_language(language))
        if error is not None:
            return f"{self.stage}.language: no word tokenizer for {language!r} here ({error})"
        return f"{self.stage}.thresholds: {self.params.thresholds!r} has no settings for language {language!r}"

    def _build(self, language: str) -> BaseModel | None:
        # a language-ID label is named by its FineWeb-2 code: datatrove's own table maps several labels (zh, ar,
        # az, ...) to its fallback "xx" tokenizer, since its loader takes the string "FALSE" for true
        code = resolve_language(language)
        if _tokenizer_error(code) is not None:
            return None
        loaded = loaded_parameters(self.params.thresholds, self.stage, code)
        if loaded is None:
            return None
        if not loaded and not self.auto and code == language:
            return self.params
        merged = {**self.params.model_dump(), **loaded, **self._explicit, "language": code}
        return type(self.params).model_validate(merged)

    def for_language(self, code: str | None) -> BaseModel | None:
        """Parameters for a document in language ``code`` (a FineWeb-2 code), or None: no settings."""
        if not self.auto:
            return self.fixed
        if code is None:
            return None
        if code not in self._by_language:
            self._by_language[code] = self._build(code)
        return self._by_language[code]


class LanguageAwareFilter(SignalFilter):
    """A filter whose parameters depend on the document's language (``language``, ``thresholds``)."""

    stage_name = ""

    def __init__(self, params: Any, label: str):
        super().__init__(params, label)
        self.settings = LanguageSettings(self.stage_name, params)

    def document_params(self, doc: Document) -> Any | None:
        """This document's parameters, or None (counted) when its language has no settings."""
        if not self.settings.auto:
            return self.settings.fixed
        code = document_language(doc.metadata)
        params = self.settings.for_language(code)
        if params is None:
            self.stat_update(f"{UNCONFIGURED_REASON}/{code or 'unknown'}")
        return params

    def unconfigured(self) -> bool | tuple[bool, str]:
        """The decision on a document whose language has no settings: the recipe's ``unconfigured_language``."""
        return True if self.params.unconfigured_language == "keep" else (False, UNCONFIGURED_REASON)
