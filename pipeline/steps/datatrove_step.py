"""``datatrove``: any of datatrove's own pipeline steps, by class name, inside a Curate recipe.

    - datatrove: {step: filters.RegexFilter, args: {regex_exp: "lorem ipsum"}}
    - datatrove: {step: formatters.FTFYFormatter}

``step`` is a class under ``datatrove.pipeline`` (``filters.RegexFilter``) or its full dotted path; ``args`` are its
keyword arguments. A datatrove filter gets Curate's drop ledger like any Curate filter (its drop reason, or the
stage label when it gives none). Only classes from ``datatrove.pipeline`` can be named: a recipe must not be a way
to import arbitrary code.
"""

from __future__ import annotations

import importlib
from typing import Any

from datatrove.pipeline.base import PipelineStep
from pydantic import Field, field_validator

from pipeline.registry import StageContext, StageParams, register_stage

ROOT = "datatrove.pipeline"


class DatatroveStepParams(StageParams):
    step: str
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("step")
    @classmethod
    def _resolve(cls, value: str) -> str:
        path = value if value.startswith(f"{ROOT}.") else f"{ROOT}.{value}"
        module_name, _, class_name = path.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            raise ValueError(
                f"no datatrove step {value!r} (expected e.g. 'filters.RegexFilter' or 'formatters.FTFYFormatter')"
            ) from None
        if not (isinstance(obj, type) and issubclass(obj, PipelineStep)):
            raise ValueError(f"{value!r} is not a datatrove PipelineStep")
        return path


@register_stage("datatrove", DatatroveStepParams)
def build_datatrove_step(params: DatatroveStepParams, ctx: StageContext) -> PipelineStep:
    """One of datatrove's own steps (filters, formatters, ...) by class name, with its keyword arguments."""
    module_name, _, class_name = params.step.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    try:
        return cls(**params.args)
    except TypeError as e:
        raise ValueError(f"stage {ctx.label}: {params.step} does not take these args ({e})") from None
