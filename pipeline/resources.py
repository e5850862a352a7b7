"""Files Curate ships inside its package, found with ``importlib.resources`` so an installed wheel has them too.

``pipeline/data/`` holds what the default path needs offline: the language-ID model (``models/lid.176.ftz``), the
default quality model (``models/quality/``), GPT-2's tokenizer (``tokenizers/gpt2/``) and the sample corpora the
shipped recipes read (``samples/``); ``data/ATTRIBUTION.md`` gives each file's source and licence.
``pipeline/recipes/`` holds the shipped recipes, which a user can run by name (``curate run quickstart``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """The path of a shipped data file or folder, e.g. ``data_path("models", "lid.176.ftz")``."""
    return Path(str(files("pipeline").joinpath("data", *parts)))


def recipes_dir() -> Path:
    return Path(str(files("pipeline").joinpath("recipes")))


def shipped_recipes() -> dict[str, Path]:
    """Shipped recipes by name (the file name without ``.yaml``)."""
    return {p.stem: p for p in sorted(recipes_dir().glob("*.yaml"))}


def shipped_recipe(name: str) -> Path | None:
    """The shipped recipe called ``name`` (``quickstart`` or ``quickstart.yaml``), or None."""
    return shipped_recipes().get(name.removesuffix(".yaml").removesuffix(".yml"))
