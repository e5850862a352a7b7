"""From a validated recipe to datatrove executor phases.

The plan is a list of phases, each a list of datatrove steps run as one executor job:

* A per-task phase starts with ``RankOutputReset`` (an unfinished earlier attempt's files go), then reads (the
  corpora, or the previous phase's hand-off), then applies stages in recipe order, and ends with the Parquet
  writer (``OUTPUT/data/``) or, when a multi-phase stage follows, a hand-off to the next phase.
* A stage that needs the whole corpus (``MultiPhaseStage``) splits the job: its ``collect`` steps end one
  per-task phase, its global phases run after every task of it finished, its ``apply`` steps open the next one.
* Every filter gets a drop-ledger writer (``OUTPUT/removed/<label>/``) as its datatrove ``exclusion_writer``.

Phases are chained with datatrove's ``depends`` on every executor (local, Slurm job arrays, Ray), and datatrove's
completion markers make a re-run skip finished tasks. Curate writes no scheduler of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter

from pipeline.extract.step import LABEL as EXTRACT_LABEL
from pipeline.extract.step import HtmlExtract, extract_configs, extraction_position
from pipeline.readers.corpus_reader import BAD_INPUT_DIR, CorpusReader
from pipeline.recipe import Recipe, RecipeError, SourceConfig
from pipeline.registry import MultiPhaseStage, PreparedStage, StageContext, get_stage
from pipeline.writers.intermediate import HandoffReader, HandoffWriter
from pipeline.writers.parquet_shards import ShardedParquetWriter
from pipeline.writers.rank_reset import RankOutputReset

DATA_DIR = "data"
REMOVED_DIR = "removed"
WORK_DIR = "work"
LOGS_DIR = "logs"
HANDOFF_PREFIX = "handoff_"  # WORK_DIR/handoff_<nn>: the documents passed from one per-task phase to the next


@dataclass
class PlannedPhase:
    name: str
    steps: list[PipelineStep]
    tasks: int
    per_task: bool = True  # reads documents (vs a global phase of a multi-phase stage)
    stage_labels: list[str] = field(default_factory=list)


@dataclass
class RunPlan:
    recipe: Recipe
    output_dir: str
    tasks: int
    phases: list[PlannedPhase]
    stage_labels: list[str]
    filter_labels: list[str]
    declared: dict[str, pa.DataType]

    def logging_dir(self, phase: PlannedPhase) -> str:
        return f"{self.output_dir.rstrip('/')}/{LOGS_DIR}/{phase.name}"

    def progress_dir(self, phase: PlannedPhase) -> str:
        return f"{self.output_dir.rstrip('/')}/{LOGS_DIR}/progress/{phase.name}"


def _declared_columns(steps: list[PipelineStep]) -> dict[str, pa.DataType]:
    declared: dict[str, pa.DataType] = {}
    for step in steps:
        columns = getattr(step, "output_columns", None)
        if callable(columns):
            for name, dtype in columns().items():
                if name in declared and declared[name] != dtype:
                    raise ValueError(f"column {name!r} is declared as {declared[name]} and as {dtype}")
                declared[name] = dtype
    return declared


def _check_read_columns(recipe: Recipe, built: list[tuple[str, PipelineStep | MultiPhaseStage]]) -> None:
    """A stage that ranks by a column (``score_column``) needs an earlier stage that writes it, as a number."""
    entries = {entry.label: (i, entry) for i, entry in enumerate(recipe.stages)}
    written: dict[str, pa.DataType] = {}
    problems = []
    for label, item in built:
        i, entry = entries.get(label, (None, None))
        column = getattr(entry.params, "score_column", None) if entry else None
        if column is not None and not column.startswith("original."):  # a corpus field: read per document
            numeric = sorted(k for k, t in written.items() if pa.types.is_integer(t) or pa.types.is_floating(t))
            where = f"stages[{i}].{entry.name}.score_column"
            if column not in written:
                problems.append(
                    f"{where}: no earlier stage writes {column!r}; numeric columns written before this stage: "
                    f"{', '.join(numeric) or 'none'} (add e.g. quality_classifier or hf_classifier before it, or name a "
                    f"field of the corpus's records as original.<field>)"
                )
            elif column not in numeric:
                problems.append(f"{where}: {column!r} is a {written[column]} column, not a number")
        steps = [item] if isinstance(item, PipelineStep) else [*item.collect, *item.apply]
        written.update(_declared_columns(steps))
    if problems:
        raise RecipeError(problems, recipe.path)


def fingerprint(recipe: Recipe, tasks: int, limit: int | None) -> str:
    """What a resumed run must share with the first attempt: sources, stages, output layout, task count."""
    m = recipe.model
    payload = {
        "sources": [s.model_dump(mode="json") for s in m.sources],
        "stages": [(e.name, e.label, e.params.model_dump(mode="json")) for e in recipe.stages],
        "output": m.output.model_dump(mode="json", exclude={"path"}),
        "tasks": tasks,
        "limit": limit,
    }
    if m.mixture is not None:
        payload["mixture"] = m.mixture.model_dump(mode="json")
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def effective_sources(recipe: Recipe, limit: int | None) -> list[SourceConfig]:
    if limit is None:
        return list(recipe.model.sources)
    return [s.model_copy(update={"limit": min(s.limit or limit, limit)}) for s in recipe.model.sources]


def build_plan(
    recipe: Recipe,
    output_dir: str,
    tasks: int | None = None,
    limit: int | None = None,
    ledger_scrub: Callable[[str], str] | None = None,
) -> RunPlan:
    tasks = tasks or recipe.model.executor.tasks
    out = recipe.model.output
    output_dir = output_dir.rstrip("/")

    # build every stage once, in order
    built: list[tuple[str, PipelineStep | MultiPhaseStage]] = []
    prepare: list[PlannedPhase] = []  # phases that run once before any document is read (an index to build)
    for i, entry in enumerate(recipe.stages):
        ctx = StageContext(
            name=entry.name,
            label=entry.label,
            output_dir=output_dir,
            work_dir=f"{output_dir}/{WORK_DIR}/{entry.label}",
            tasks=tasks,
        )
        try:
            item = get_stage(entry.name).factory(entry.params, ctx)
        except (ValueError, OSError) as e:  # a stage refusing its parameters or its model: one line naming it
            message = str(e).removeprefix(f"{entry.name}: ")
            raise ValueError(f"stages[{i}].{entry.name}: {message}") from e
        if isinstance(item, PreparedStage):
            for g in item.prepare:
                for step in g.steps:
                    step.stats.name = f"{entry.label}:{g.name}"
                name = f"00_00_{entry.label}_{g.name}"  # sorts before 00_documents, as it runs
                prepare.append(PlannedPhase(name=name, steps=g.steps, tasks=g.tasks or 1, per_task=False))
            item = item.step
        built.append((entry.label, item))
    # warc sources: HTML becomes text after the leading URL-level stages (pages they drop are never parsed)
    configs = extract_configs(recipe.model.sources)
    if configs:
        at = extraction_position([entry.name for entry in recipe.stages])
        built.insert(at, (EXTRACT_LABEL, HtmlExtract(configs, label=EXTRACT_LABEL)))

    all_steps: list[PipelineStep] = []
    for _, item in built:
        all_steps += [item] if isinstance(item, PipelineStep) else [*item.collect, *item.apply]
    declared = _declared_columns(all_steps)
    _check_read_columns(recipe, built)

    # documents dropped before the first pii stage are scrubbed as they are written to the ledger; after it, they
    # already are (scrubbing them again would only cost time)
    pii_labels = {e.label for e in recipe.stages if e.name == "pii"}
    first_pii = next((i for i, (label, _) in enumerate(built) if label in pii_labels), len(built))
    scrubbed_ledgers = {label for label, _ in built[:first_pii]}

    def ledger_for(label: str) -> ShardedParquetWriter:
        return ShardedParquetWriter(
            output_dir,
            f"{REMOVED_DIR}/{label}",
            declared,
            shard_max_bytes=int(out.shard_max_bytes) if out.shard_max_bytes else None,
            shard_max_rows=out.shard_max_rows,
            compression=out.compression,
            ledger_label=label,
            scrub=ledger_scrub if label in scrubbed_ledgers else None,
            keep_text=out.write_removed_text,
        )

    filter_labels: list[str] = []

    def attach(step: PipelineStep, label: str, subdirs: list[str], part: str = "") -> PipelineStep:
        step.stats.name = f"{label}:{part}" if part else label  # a multi-phase stage's parts counted apart
        if isinstance(step, BaseFilter):
            step.exclusion_writer = ledger_for(label)
            subdirs.append(f"{REMOVED_DIR}/{label}")
        if isinstance(step, BaseFilter) and label not in filter_labels:
            filter_labels.append(label)
        return step

    phases: list[PlannedPhase] = []
    sources = effective_sources(recipe, limit)

    def new_phase(index: int, handoff_from: str | None) -> tuple[PlannedPhase, list[str]]:
        name = f"{index:02d}_documents"
        subdirs: list[str] = []
        phase = PlannedPhase(name=name, steps=[], tasks=tasks)
        reset = RankOutputReset(output_dir, subdirs)  # subdirs filled in as the phase is built
        reset.stats.name = "reset"
        if handoff_from is None:
            local = "://" not in output_dir or output_dir.startswith("file://")
            progress = f"{output_dir.removeprefix('file://')}/{LOGS_DIR}/progress/{name}" if local else None
            reader = CorpusReader(sources, output_dir, progress_dir=progress)
            reader.stats.name = "reader"
            subdirs.append(BAD_INPUT_DIR)
        else:
            reader = HandoffReader(output_dir, handoff_from)
            reader.stats.name = "handoff_reader"
        phase.steps += [reset, reader]
        return phase, subdirs

    index = 0
    phase, subdirs = new_phase(index, None)
    for label, item in built:
        if isinstance(item, PipelineStep):
            phase.steps.append(attach(item, label, subdirs))
            phase.stage_labels.append(label)
            continue
        # a multi-phase stage: finish this phase with collect + hand-off, run the global phases, reopen
        for step in item.collect:
            phase.steps.append(attach(step, label, subdirs, part="collect"))
        handoff = f"{WORK_DIR}/{HANDOFF_PREFIX}{index:02d}"
        writer = HandoffWriter(output_dir, handoff)
        writer.stats.name = "handoff_writer"
        subdirs.append(handoff)
        phase.steps.append(writer)
        phase.stage_labels.append(label)
        phases.append(phase)
        for g in item.global_phases:
            for step in g.steps:
                step.stats.name = f"{label}:{g.name}"
            phases.append(
                PlannedPhase(
                    name=f"{index:02d}_{label}_{g.name}", steps=g.steps, tasks=g.tasks or tasks, per_task=False
                )
            )
        index += 1
        phase, subdirs = new_phase(index, handoff)
        for step in item.apply:
            phase.steps.append(attach(step, label, subdirs))
    writer = ShardedParquetWriter(
        output_dir,
        DATA_DIR,
        declared,
        shard_max_bytes=int(out.shard_max_bytes) if out.shard_max_bytes else None,
        shard_max_rows=out.shard_max_rows,
        compression=out.compression,
    )
    writer.stats.name = "writer"
    subdirs.append(DATA_DIR)
    tokens_phases: list[PlannedPhase] = []
    if out.tokens is not None:  # training tokens: collected beside the writer, mixed and written after it
        from pipeline.tokens.output_plan import token_output_phases  # noqa: PLC0415

        collect, globals_ = token_output_phases(recipe, output_dir, tasks, index + 1)
        phase.steps.append(collect)
        subdirs.extend(collect.rank_subdirs)
        tokens_phases = [PlannedPhase(name=n, steps=s, tasks=t, per_task=False) for n, s, t in globals_]
    phase.steps.append(writer)
    phases.append(phase)
    phases = prepare + phases + tokens_phases

    return RunPlan(
        recipe=recipe,
        output_dir=output_dir,
        tasks=tasks,
        phases=phases,
        stage_labels=[label for label, _ in built],
        filter_labels=filter_labels,
        declared=declared,
    )


def default_workers(tasks: int) -> int:
    return max(1, min(tasks, os.cpu_count() or 1))
