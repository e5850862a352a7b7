"""``language_filter``: identify each document's language with fastText and keep the wanted ones.

Writes ``language`` (ISO 639 code, e.g. ``en``) and ``language_score`` (the model's probability) on every document
it sees, and drops documents whose language is not among ``languages`` with a score above
``language_threshold`` (or, with ``languages`` unset, whose best score is not above it). Same parameters,
defaults and decisions as datatrove's ``LanguageFilter`` (FineWeb kept English above 0.65): it *is* datatrove's
filter, with the model read from a local file instead of downloaded.

The model runs offline: by default the compressed fastText ``lid.176.ftz`` shipped in ``data/models`` (CC-BY-SA
3.0, see ``data/ATTRIBUTION.md``). ``model_path`` points to ``lid.176.bin`` (slightly more accurate) or,
with ``backend: glotlid``, to a GlotLID ``model_v3.bin``; GlotLID labels are ``eng_Latn``, so the script goes to
``language_script``. Dropped documents get the reason ``language``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Literal

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters.language_filter import LanguageFilter as DatatroveLanguageFilter
from datatrove.utils._import_utils import _raise_error_for_missing_dependencies
from datatrove.utils.lid import FastTextLID
from pydantic import Field

from pipeline.recipe_paths import RecipeFile
from pipeline.registry import StageContext, StageParams, register_stage
from pipeline.resources import data_path

DEFAULT_MODEL = data_path("models", "lid.176.ftz")


class LanguageFilterParams(StageParams):
    languages: list[str] | str | None = None
    language_threshold: float = 0.65
    backend: Literal["ft176", "glotlid"] = "ft176"
    label_only: bool = False
    keep_top_pairs_threshold: float = -1
    model_path: RecipeFile | None = None  # default: data/models/lid.176.ftz (ft176); required for glotlid
    record_signals: bool = False  # language and language_score are always written
    # documents identified one after another before they move on: fastText's model stays in the CPU caches (the
    # other stages evict it between documents); same decisions, 1.6 -> 1.1 CPU-s on the e2e benchmark's 13 MB
    batch_size: int = Field(default=64, ge=1, le=10_000)


class LocalFastTextLID(FastTextLID):
    """datatrove's fastText language identifier, loading its model from a local path (never the network)."""

    def __init__(self, model_path: str | Path, languages: list[str] | None = None, k: int = -1):
        super().__init__(languages, k)
        self.model_path = str(model_path)

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            if not Path(self.model_path).is_file():
                raise FileNotFoundError(f"language-ID model not found: {self.model_path}")
            self._model = _FastText(self.model_path)
        return self._model

    def __getstate__(self) -> dict:
        # executors pickle and deep-copy steps (also after a task ran in-process): the C++ model is loaded again
        state = self.__dict__.copy()
        state["_model"] = None
        return state


def resolve_model_path(params: LanguageFilterParams) -> Path:
    if params.model_path:
        return Path(params.model_path).expanduser()
    if params.backend == "glotlid":
        raise ValueError("language_filter: backend 'glotlid' needs model_path (a local GlotLID model_v3.bin)")
    if not DEFAULT_MODEL.is_file():
        raise ValueError(f"language_filter: the shipped model {DEFAULT_MODEL} is missing (reinstall curate)")
    return DEFAULT_MODEL


def _check_installed(step_name: str, modules: dict[str, str]) -> None:
    """datatrove's ``check_required_dependencies`` (module importable, distribution installed, its error) with
    each distribution looked up by name: datatrove reads the metadata of every installed distribution once per
    name (0.15 CPU-s each)."""
    missing = {}
    for module, distribution in modules.items():
        if importlib.util.find_spec(module) is None:
            missing[module] = distribution
            continue
        try:
            importlib.metadata.distribution(distribution)
        except importlib.metadata.PackageNotFoundError:
            missing[module] = distribution
    if missing:
        _raise_error_for_missing_dependencies(step_name, missing)


class LanguageFilter(DatatroveLanguageFilter):
    """datatrove's LanguageFilter on a local model, with a named drop reason and declared columns."""

    def __new__(cls, *args, **kwargs):
        # datatrove's LanguageFilter asks for the `fasttext-numpy2-wheel` distribution. Curate installs
        # `fasttext-numpy2` instead (the numpy-2 build this project pins), which provides the same `fasttext`
        # module: check for that module and distribution, then construct without datatrove's check.
        _check_installed(cls.__name__, {"fasttext": "fasttext-numpy2", "fasteners": "fasteners"})
        return object.__new__(cls)

    def __init__(self, params: LanguageFilterParams, label: str = "language_filter"):
        super().__init__(
            languages=params.languages,
            language_threshold=params.language_threshold,
            backend=params.backend,
            label_only=params.label_only,
            keep_top_pairs_threshold=params.keep_top_pairs_threshold,
        )
        self.params = params
        self.label = label
        self.batch_size = params.batch_size  # BaseFilter.run filters a batch, then yields it in order
        self.model = LocalFastTextLID(resolve_model_path(params), self.languages)

    def output_columns(self) -> dict[str, pa.DataType]:
        columns = {"language": pa.string(), "language_score": pa.float64()}
        if self.backend == "glotlid":
            columns["language_script"] = pa.string()
        return columns

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        try:
            kept = super().filter(doc)
        except (TypeError, UnicodeError):  # lone surrogates: fastText's binding refuses the string
            clean = Document(text=doc.text.encode("utf-8", "replace").decode("utf-8"), id=doc.id, metadata={})
            kept = super().filter(clean)
            doc.metadata.update(clean.metadata)
        return True if kept else (False, "language")


@register_stage("language_filter", LanguageFilterParams)
def build_language_filter(params: LanguageFilterParams, ctx: StageContext) -> LanguageFilter:
    """Label each document's language with fastText (offline) and keep the wanted languages above a score."""
    resolve_model_path(params)  # fail at build time on a glotlid recipe without a model
    return LanguageFilter(params, label=ctx.label)
