"""Paths written in a recipe are relative to the recipe file's folder, not to where ``curate`` is started.

A recipe is a file a user keeps beside their data (or one shipped inside the package), so ``path: samples/`` must
mean the same thing from any working directory. A stage parameter that names a file declares its type as
``RecipePath``; the recipe loader passes the recipe's folder as pydantic's validation context and the value is
made absolute there. URLs (``s3://``, ``hf://``, ...) and absolute paths are left as they are; ``~`` is expanded.
``RecipePathOrName`` is for parameters that take either a path or a name (a tokenizer ``gpt2``, a hub id): the
value is resolved only when a file or folder of that name exists beside the recipe. ``RecipeFile`` is a path that
must name an existing local file (a model, a blocklist): a missing one is a recipe error naming the key and the
path, found by ``curate validate`` and by ``curate run`` before any task starts.

The output folder is the exception (``output.path``, ``--output``): it is relative to the working directory, since
a shipped recipe's folder is inside the installed package.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo

RECIPE_DIR = "recipe_dir"  # the validation-context key


def is_url(value: str) -> bool:
    return "://" in value


def resolve_path(value: str, base: str | None) -> str:
    """``value`` made absolute against ``base`` (the recipe's folder); URLs and absolute paths unchanged."""
    if not value or is_url(value):
        return value
    value = os.path.expanduser(value)
    if os.path.isabs(value) or base is None:
        return value
    return os.path.normpath(os.path.join(base, value))


def _base(info: ValidationInfo) -> str | None:
    return (info.context or {}).get(RECIPE_DIR)


def _resolve(value: str | None, info: ValidationInfo) -> str | None:
    return None if value is None else resolve_path(value, _base(info))


def _resolve_if_exists(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    candidate = resolve_path(value, _base(info))
    return candidate if os.path.exists(candidate) else value


RecipePath = Annotated[str, AfterValidator(_resolve)]
RecipePathOrName = Annotated[str, AfterValidator(_resolve_if_exists)]


def _must_be_file(value: str | None) -> str | None:
    if value is not None and not is_url(value) and not os.path.isfile(value):
        raise ValueError(f"no such file: {value}" + (" (a folder)" if os.path.isdir(value) else ""))
    return value


RecipeFile = Annotated[str, AfterValidator(_resolve), AfterValidator(_must_be_file)]
