"""Checks made before any task starts, beyond what the recipe's schema can tell: every source finds its files.

A source ``path`` that matches no input file (a typo, a wrong bucket, the wrong format's file patterns) is a recipe
error, reported by ``curate validate`` and by ``curate run`` before anything is written: a run over a misspelt
path would otherwise finish "successfully" with nothing from that source.
"""

from __future__ import annotations

import fsspec

from pipeline.recipe import Recipe


def source_problems(recipe: Recipe) -> list[str]:
    """One line per source whose ``path`` matches no input file (or cannot be listed)."""
    from pipeline.readers.corpus_reader import FORMATS  # noqa: PLC0415 - readers pull in datatrove
    from pipeline.readers.files import GLOB_CHARS, list_files  # noqa: PLC0415

    problems = []
    for i, src in enumerate(recipe.model.sources):
        if not src.path:
            continue  # hf_dataset: opened by datasets when the task runs
        fmt = FORMATS[src.format]
        where = f"sources[{i}].path"
        try:
            fs, fs_path = fsspec.core.url_to_fs(src.path)
            _, _, files = list_files(src.path, fmt.patterns, src.glob)
            if fmt.skip_file:
                files = [f for f in files if not fmt.skip_file(f)]
            if files:
                continue
            if any(c in fs_path for c in GLOB_CHARS):
                why = "matches no file"
            elif not fs.exists(fs_path):
                why = "no such file or folder"
            else:
                wanted = f"glob {src.glob!r}" if src.glob else ", ".join(fmt.patterns)
                why = f"holds no {src.format} input file ({wanted})"
        except Exception as e:  # noqa: BLE001 - no credentials, unknown protocol, unreachable store: one line
            why = f"cannot be listed ({type(e).__name__}: {e})"
        problems.append(f"{where}: source {src.name!r}: {src.path}: {why}")
    return problems
