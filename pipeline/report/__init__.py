"""The data-quality report of a run's output: ``OUTPUT/report/report.json``, ``report.md`` and ``index.html``.

``write_report(output_dir)`` reads the output alone (``data/``, ``removed/``, ``stats.json``, ``manifest.json``,
``work/``), builds the report (``build.py``), renders it (``render.py``) and writes the three files. It is what
``curate report OUTPUT`` runs, and ``curate run`` runs it at the end of a run.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from datatrove.io import get_datafolder

from pipeline.report.build import REPORT_DIR, ReportOptions, build_report, count_rows
from pipeline.report.render import render_html, render_markdown

__all__ = ["REPORT_DIR", "ReportOptions", "build_report", "write_report"]


def write_report(
    output_dir: str, options: ReportOptions | None = None, show_progress: bool = True
) -> tuple[dict, list[str]]:
    """Build and write the report; returns it and the paths written (relative to ``output_dir``)."""
    if show_progress:
        report = _build_with_progress(output_dir, options)
    else:
        report = build_report(output_dir, options)
    folder = get_datafolder(output_dir)
    folder.makedirs(REPORT_DIR, exist_ok=True)
    files = {
        "report.json": orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY),
        "report.md": render_markdown(report).encode(),
        "index.html": render_html(report).encode(),
    }
    written = []
    for name, payload in files.items():
        path = f"{REPORT_DIR}/{name}"
        with folder.open(path + ".tmp", "wb") as f:
            f.write(payload)
        folder.mv(path + ".tmp", path)
        written.append(path)
    return report, written


def _build_with_progress(output_dir: str, options: ReportOptions | None) -> dict:
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn  # noqa: PLC0415

    total = count_rows(output_dir)
    columns = (
        TextColumn("report: reading shards, counting tokens"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("rows", total=total)
        advance: Callable[[int], None] = lambda n: progress.advance(task, n)  # noqa: E731
        return build_report(output_dir, options, progress=advance)
