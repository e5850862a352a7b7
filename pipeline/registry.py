"""The stage registry: every stage a recipe can name, with its typed parameters.

A recipe says ``- gopher_quality: {min_doc_words: 50}``. The name is looked up here, the mapping is validated by
the stage's ``StageParams`` model (unknown keys and wrong types are errors that name the key), and the stage's
factory turns the validated parameters into datatrove ``PipelineStep`` objects, so Curate's stages run on every
datatrove executor and mix with datatrove's own steps.

Contract for a stage (see ``pipeline/document.py`` for the metadata conventions):

* A *plain* stage's factory returns one ``PipelineStep``. Filters subclass datatrove's ``BaseFilter`` and implement
  only ``filter(doc)``, returning ``(False, "reason")`` to drop; the runtime attaches the drop ledger as the
  filter's ``exclusion_writer``, so dropped documents land in ``OUTPUT/removed/<stage>/`` with their reason.
* A stage that adds values to documents declares them with ``output_columns()`` (``{column: pyarrow type}``) so
  they become typed Parquet columns. Signals are stored as ``doc.metadata["<stage>.<signal>"]``, the decision
  apart from the signal, so a threshold can be re-cut later from the output alone.
* A stage that needs a view of the whole corpus (a global top-fraction cut, dedup clustering) returns a
  ``MultiPhaseStage``: the runtime splits the job there into datatrove executor phases chained by dependencies.

Stage modules register themselves with ``@register_stage``, so adding a file is enough to add a stage. Looking a
stage up imports only the module that registers it: the stage packages' sources are scanned (as text, no import)
for ``@register_stage("name"``, which keeps validating or running a recipe from importing every stage's libraries
(spaCy, Presidio, tokenizers, scipy) that the recipe does not use. ``load_builtin_stages`` still imports them all
(``curate stages``).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from datatrove.pipeline.base import PipelineStep
from pydantic import BaseModel, ConfigDict

STAGE_PACKAGES = (
    "pipeline.steps",
    "pipeline.filters",
    "pipeline.dedup",
    "pipeline.pii",
    "pipeline.decont",
    "pipeline.tokens",
    "classifiers",
)


class StageParams(BaseModel):
    """Base of every stage's parameters: unknown keys are errors, values are type-checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class StageContext:
    """What a stage factory may need to know about the run it is built for."""

    name: str  # registry name, e.g. "gopher_quality"
    label: str  # unique within the recipe: the name, or "name_2" for its second use; names removed/<label>/
    output_dir: str  # the run's output folder (local path or fsspec URL)
    work_dir: str  # OUTPUT/work/<label>: scratch space for multi-phase stages
    tasks: int  # number of tasks of the per-document phases


@dataclass
class Phase:
    """A group of datatrove steps run as one executor job (one Slurm array, one Ray job)."""

    name: str
    steps: list[PipelineStep]
    tasks: int | None = None  # None: the run's task count


@dataclass
class MultiPhaseStage:
    """A stage that needs every document's signal before it can decide on any document.

    ``collect`` runs inside the per-task phase, on every document, and passes documents through (for example it
    writes scores or MinHash signatures under ``ctx.work_dir``). Then ``global_phases`` run, after every task of
    that phase finished. Then ``apply`` runs at the start of the next per-task phase. The runtime guarantees that
    rank r of the next phase sees exactly the documents rank r of the previous phase passed on, in the same order.
    """

    collect: list[PipelineStep] = field(default_factory=list)
    global_phases: list[Phase] = field(default_factory=list)
    apply: list[PipelineStep] = field(default_factory=list)


@dataclass
class PreparedStage:
    """A per-document stage that needs something built once per run before any document is read.

    ``prepare`` phases run (once, before the first per-task phase) and write under ``ctx.work_dir`` (for example
    the decontamination n-gram index); ``step`` then runs inline in the per-task phase like a plain stage and
    reads what was prepared. No document is handed off between phases.
    """

    prepare: list[Phase]
    step: PipelineStep


StageFactory = Callable[[Any, StageContext], "PipelineStep | MultiPhaseStage | PreparedStage"]


@dataclass(frozen=True)
class StageSpec:
    name: str
    params: type[StageParams]
    factory: StageFactory
    summary: str


_REGISTRY: dict[str, StageSpec] = {}


def register_stage(name: str, params: type[StageParams]) -> Callable[[StageFactory], StageFactory]:
    """Register ``factory(params, ctx)`` under ``name``. The factory's docstring is the stage's summary."""

    def decorate(factory: StageFactory) -> StageFactory:
        if name in _REGISTRY and _REGISTRY[name].factory is not factory:
            raise ValueError(f"stage {name!r} is registered twice")
        summary = (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else ""
        _REGISTRY[name] = StageSpec(name=name, params=params, factory=factory, summary=summary)
        return factory

    return decorate


def load_builtin_stages() -> None:
    """Import every module of the stage packages so their ``@register_stage`` calls run."""
    for package_name in STAGE_PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError as e:
            if e.name == package_name:
                continue
            raise
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package_name}.{module.name}")


_REGISTER_CALL = re.compile(r"""@register_stage\(\s*["']([^"']+)["']""")
_INDEX: dict[str, str] | None = None


def stage_index() -> dict[str, str]:
    """Stage name -> the module that registers it, read from the stage packages' source files without importing."""
    global _INDEX
    if _INDEX is None:
        index: dict[str, str] = {}
        for package_name in STAGE_PACKAGES:
            try:
                spec = importlib.util.find_spec(package_name)
            except ModuleNotFoundError:
                continue
            if spec is None or not spec.submodule_search_locations:
                continue
            for module in pkgutil.iter_modules(spec.submodule_search_locations):
                origin = importlib.util.find_spec(f"{package_name}.{module.name}")
                if origin is None or not origin.origin or not origin.origin.endswith(".py"):
                    continue
                try:
                    with open(origin.origin, encoding="utf-8") as f:
                        source = f.read()
                except OSError:
                    continue
                for name in _REGISTER_CALL.findall(source):
                    index.setdefault(name, f"{package_name}.{module.name}")
        _INDEX = index
    return _INDEX


def _load_stage(name: str) -> None:
    """Import the module that registers ``name`` (or, for a name the index does not know, every stage module)."""
    if name in _REGISTRY:
        return
    module = stage_index().get(name)
    if module is not None:
        importlib.import_module(module)
    if name not in _REGISTRY:
        load_builtin_stages()


def available_stages() -> list[str]:
    load_builtin_stages()
    return sorted(_REGISTRY)


def nearest_name(name: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return matches[0] if matches else None


def get_stage(name: str) -> StageSpec:
    """The registered stage, or a ``KeyError`` whose message names the nearest valid stage."""
    _load_stage(name)
    if name not in _REGISTRY:
        hint = nearest_name(name, list(_REGISTRY))
        suggestion = f"; did you mean {hint!r}?" if hint else ""
        raise KeyError(f"unknown stage {name!r}{suggestion} (known stages: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]
