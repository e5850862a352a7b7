"""Recipes: the YAML files that say what to read, which stages to apply and where to write.

A recipe is loaded with ``yaml.safe_load`` and validated by the typed models below. Every mistake is reported as
one line that names the key path, what was expected and, for a misspelt key or stage, the nearest valid name
(``stages[1].gopher_quality.min_doc_wrds: unknown key; did you mean 'min_doc_words'?``), so a user fixes a recipe
before a cluster job starts rather than after it failed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ByteSize, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from pipeline.recipe_paths import RECIPE_DIR, RecipePath
from pipeline.registry import StageParams, get_stage, nearest_name
from pipeline.tokens.config import MixtureConfig, TokensConfig

FORMATS = ("fineweb-edu", "fineweb", "dclm", "redpajama-v1", "redpajama-v2", "jsonl", "parquet", "warc", "wet")
Format = Literal["fineweb-edu", "fineweb", "dclm", "redpajama-v1", "redpajama-v2", "jsonl", "parquet", "warc", "wet"]
Extractor = Literal["trafilatura", "resiliparse", "justext"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    """One corpus to read: local files or any fsspec URL (``path``), or a Hugging Face dataset (``hf_dataset``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    format: Format
    path: RecipePath | None = None  # dir, file, glob, or fsspec URL (s3://, gs://, hf://datasets/...)
    glob: str | None = None  # file pattern under a directory `path`, e.g. "**/*.jsonl.zst"
    hf_dataset: str | None = None  # hub id or local dataset dir, read with datasets' streaming=True
    hf_config: str | None = None
    hf_data_files: str | list[str] | None = None
    split: str = "train"
    limit: PositiveInt | None = None  # at most this many documents from this source, over all tasks
    text_key: str | None = None  # jsonl / parquet: which field holds the text (default "text")
    id_key: str | None = None  # jsonl / parquet: which field holds the id (default "id"; derived if absent)
    compression: Literal["infer", "gzip", "zstd", "none"] = "infer"
    max_doc_bytes: ByteSize = ByteSize(32 * 2**20)  # a longer text is bad input, not a document
    quality_signals_path: RecipePath | None = (
        None  # redpajama-v2: root of quality_signals/ (default: beside documents/)
    )
    # warc: how HTML becomes text (pipeline/extract); the plan runs it after the recipe's leading url_filter stages
    extractor: Extractor | None = None  # default trafilatura, with FineWeb's settings
    extractor_options: dict[str, Any] = Field(default_factory=dict)  # passed to the extractor library
    extract_timeout: float = Field(default=1.0, gt=0)  # seconds per page; a slower page is dropped as timeout
    extract_isolation: Literal["signal", "process"] = "signal"  # process: survives native hangs/crashes, slower

    @model_validator(mode="after")
    def _one_location(self) -> SourceConfig:
        if (self.path is None) == (self.hf_dataset is None):
            raise ValueError("give exactly one of 'path' (files or fsspec URL) or 'hf_dataset' (datasets streaming)")
        if self.glob and not self.path:
            raise ValueError("'glob' needs 'path'")
        if self.format in ("warc", "wet") and self.hf_dataset:
            raise ValueError(f"format {self.format!r} reads WARC files: give 'path', not 'hf_dataset'")
        if self.format != "warc":
            for key in ("extractor", "extractor_options", "extract_timeout", "extract_isolation"):
                if key in self.model_fields_set:
                    raise ValueError(f"'{key}' applies to format 'warc' only (HTML pages), not {self.format!r}")
        else:
            from pipeline.extract.extractors import check_options

            check_options(self.extractor or "trafilatura", self.extractor_options)
        return self


class OutputConfig(_Strict):
    path: str = "out"  # relative to the working directory (a shipped recipe's folder is the installed package)
    shard_max_bytes: ByteSize | None = ByteSize(256 * 10**6)
    shard_max_rows: PositiveInt | None = None
    compression: Literal["zstd", "snappy", "gzip", "lz4", "brotli", "none"] = "zstd"
    write_removed_text: bool = True  # false: the drop ledger keeps ids, reasons and metadata, not the text
    tokens: TokensConfig | None = None  # tokenized training shards under OUTPUT/tokens/ (pipeline/tokens/config.py)


class ExecutorConfig(_Strict):
    """Which datatrove executor runs the job, and its resources."""

    kind: Literal["local", "slurm", "ray"] = "local"
    tasks: PositiveInt = 1
    workers: PositiveInt | None = None  # local: tasks run at once (default: min(tasks, CPUs)); slurm/ray: cap
    # slurm
    partition: str | None = None  # default: the cluster's default partition
    time: str = "24:00:00"
    cpus_per_task: PositiveInt = 1
    mem_per_cpu_gb: PositiveInt = 2  # Slurm's --mem-per-cpu takes whole gigabytes
    qos: str | None = None  # passed to sbatch only when given (default: the account's default QOS)
    job_name: str | None = None
    sbatch_args: dict[str, str | int] = Field(default_factory=dict)
    env_command: str | None = None  # run before each Slurm task, e.g. "source .venv/bin/activate"
    # ray
    address: str | None = None  # existing cluster; default $RAY_ADDRESS, else a local Ray instance


class RecipeModel(_Strict):
    name: str
    description: str | None = None
    sources: list[SourceConfig] = Field(min_length=1)
    stages: list[dict[str, dict[str, Any] | None]] = Field(default_factory=list)
    output: OutputConfig = Field(default_factory=OutputConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    mixture: MixtureConfig | None = None  # a token target and a share per source (needs output.tokens)

    @model_validator(mode="after")
    def _unique_sources(self) -> RecipeModel:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _mixture_sources(self) -> RecipeModel:
        if self.mixture is None:
            return self
        if self.output.tokens is None:
            raise ValueError("mixture needs output.tokens (the mixture is written as tokenized shards)")
        names = [s.name for s in self.sources]
        for name in self.mixture.sources:
            if name not in names:
                hint = nearest_name(name, names)
                raise ValueError(
                    f"mixture.sources.{name}: no source of that name"
                    + (f"; did you mean {hint!r}?" if hint else f" (sources: {', '.join(names)})")
                )
        missing = [n for n in names if n not in self.mixture.sources]
        if missing:
            raise ValueError(
                f"mixture.sources: no share for {', '.join(missing)} (give 'share: 0' to leave a source out)"
            )
        return self


@dataclass(frozen=True)
class StageEntry:
    """A recipe stage after validation: its registry name, its label (unique in the recipe) and parameters."""

    name: str
    label: str
    params: StageParams


@dataclass(frozen=True)
class Recipe:
    model: RecipeModel
    stages: tuple[StageEntry, ...]
    path: str | None = None

    @property
    def name(self) -> str:
        return self.model.name


class RecipeError(ValueError):
    """A recipe that cannot run; ``problems`` holds one line per mistake."""

    def __init__(self, problems: list[str], path: str | None = None):
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__("\n".join(f"{where}{p}" for p in problems))


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the key at ``loc`` (to suggest the nearest valid key)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        nxt = None
        for c in candidates:
            inner = getattr(c, "__args__", ())
            for cc in (c, *inner):
                if isinstance(cc, type) and issubclass(cc, BaseModel):
                    nxt = cc
        if nxt is None:
            return None
        current = nxt
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def format_validation_error(err: ValidationError, model: type[BaseModel], prefix: tuple[Any, ...] = ()) -> list[str]:
    """One line per problem: the key path, what is wrong, what was expected, and the nearest valid name."""
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path = _loc_to_path(prefix + loc)
        kind = e["type"]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            valid = sorted(owner.model_fields) if owner else []
            hint = nearest_name(str(loc[-1]), valid)
            msg = "unknown key" + (f"; did you mean {hint!r}?" if hint else "")
            if valid:
                msg += f" (valid keys: {', '.join(valid)})"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "literal_error":
            expected = e.get("ctx", {}).get("expected", "")
            got = e.get("input")
            hint = None
            if isinstance(got, str):
                options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
                hint = nearest_name(got, [o for o in options if o])
            msg = f"got {got!r}, expected one of {expected}" + (f"; did you mean {hint!r}?" if hint else "")
        elif kind == "value_error":
            msg = str(e["msg"]).removeprefix("Value error, ")
        else:
            msg = f"{e['msg']} (got {e.get('input')!r})"
        lines.append(f"{path}: {msg}" if path else msg)
    return lines


def _validate_stages(
    raw_stages: list[dict[str, Any]], context: dict | None = None
) -> tuple[list[StageEntry], list[str]]:
    entries: list[StageEntry] = []
    problems: list[str] = []
    used: dict[str, int] = {}
    for i, item in enumerate(raw_stages):
        where = f"stages[{i}]"
        if len(item) != 1:
            problems.append(f"{where}: expected one stage name mapped to its parameters, got keys {sorted(item)}")
            continue
        ((name, raw_params),) = item.items()
        try:
            spec = get_stage(name)
        except KeyError as e:
            problems.append(f"{where}: {e.args[0]}")
            continue
        try:
            params = spec.params.model_validate(raw_params or {}, context=context)
        except ValidationError as err:
            problems.extend(format_validation_error(err, spec.params, prefix=(where, name)))
            continue
        used[name] = used.get(name, 0) + 1
        label = name if used[name] == 1 else f"{name}_{used[name]}"
        entries.append(StageEntry(name=name, label=label, params=params))
    return entries, problems


def parse_recipe(data: Any, path: str | None = None) -> Recipe:
    """Validate a recipe mapping; raise ``RecipeError`` listing every problem found."""
    if not isinstance(data, dict):
        raise RecipeError([f"expected a mapping at the top of the recipe, got {type(data).__name__}"], path)
    # relative paths in the recipe are relative to the recipe file's folder (see pipeline/recipe_paths.py)
    context = {RECIPE_DIR: os.path.dirname(os.path.realpath(path))} if path else None
    try:
        model = RecipeModel.model_validate(data, context=context)
    except ValidationError as err:
        problems = format_validation_error(err, RecipeModel)
        # also check stages, so one pass reports every mistake
        stages = data.get("stages")
        if isinstance(stages, list) and all(isinstance(s, dict) for s in stages):
            problems += _validate_stages(stages, context)[1]
        raise RecipeError(problems, path) from None
    entries, problems = _validate_stages(model.stages, context)
    if problems:
        raise RecipeError(problems, path)
    return Recipe(model=model, stages=tuple(entries), path=path)


def find_recipe(name_or_path: str | Path) -> str:
    """A recipe file's path: the path itself if it exists, else the shipped recipe of that name (``quickstart``)."""
    path = str(name_or_path)
    if os.path.exists(path):
        return path
    from pipeline.resources import shipped_recipe

    shipped = shipped_recipe(path) if os.sep not in path else None
    return str(shipped) if shipped else path


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a YAML recipe file, or a shipped recipe named without its folder (``quickstart``)."""
    path = find_recipe(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        from pipeline.resources import shipped_recipes

        names = ", ".join(shipped_recipes())
        raise RecipeError([f"file not found (and no shipped recipe has that name; shipped: {names})"], path) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise RecipeError([f"{where}not valid YAML ({getattr(e, 'problem', e)})"], path) from None
    return parse_recipe(data, path)


def split_limit(limit: int | None, rank: int, world_size: int) -> int | None:
    """This task's share of a source's ``limit``: the shares add up to exactly ``limit``."""
    if limit is None:
        return None
    return limit // world_size + (1 if rank < limit % world_size else 0)


def human_bytes(n: float) -> str:
    if n <= 0:
        return "0 B"
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    i = min(int(math.log(n, 1000)), len(units) - 1)
    return f"{n / 1000**i:.1f} {units[i]}" if i else f"{int(n)} B"
