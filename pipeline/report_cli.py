"""``curate report OUTPUT``: the data-quality report of a run's output (also run at the end of ``curate run``).

    curate report OUTPUT [--tokenizer gpt2|PATH|HUB_ID] [--model-sizes 0.1B,0.5B,1B] [--budgets 1T,3T]
                         [--tokens-per-parameter 20] [--no-progress]

Writes ``OUTPUT/report/report.json``, ``report.md`` and ``index.html`` from the output alone. Exit status: 0; 2 an
invalid argument (a tokenizer that cannot be loaded, a folder that is no Curate output); 3 the report disagrees with
``stats.json`` / ``manifest.json`` or the output does not reconcile; 4 the report could not be made.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape

console = Console(stderr=True, highlight=False)


def _amounts(text: str) -> list[float]:
    from pipeline.report.chinchilla import parse_amounts  # noqa: PLC0415

    try:
        values = parse_amounts(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e
    if not values:
        raise argparse.ArgumentTypeError("give at least one value")
    return values


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from e
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tokenizer",
        help="tokenizer for rows without a token_count: 'gpt2' (default), a tokenizer.json path, or a hub id "
        "(used only when the run had no token_count stage, whose saved tokenizer is used otherwise)",
    )
    parser.add_argument(
        "--model-sizes",
        type=_amounts,
        help="model sizes for the Chinchilla table (default 0.1B,0.25B,0.5B,1B,1.5B,3B,5B)",
    )
    parser.add_argument(
        "--budgets", type=_amounts, help="over-trained token budgets to express in epochs (default 1T,1.5T,3T)"
    )
    parser.add_argument(
        "--tokens-per-parameter", type=_positive, help="compute-optimal tokens per parameter (default 20)"
    )


def options_from_args(args: argparse.Namespace):
    from pipeline.report import ReportOptions  # noqa: PLC0415

    options = ReportOptions(tokenizer=getattr(args, "tokenizer", None))
    if getattr(args, "model_sizes", None):
        options.model_sizes = args.model_sizes
    if getattr(args, "budgets", None):
        options.budgets = args.budgets
    if getattr(args, "tokens_per_parameter", None):
        options.tokens_per_parameter = args.tokens_per_parameter
    return options


def run_report(output: str, options=None, show_progress: bool = True) -> int:
    """Write the report of ``output`` and print where it is; returns an exit code."""
    from pipeline import exit_codes  # noqa: PLC0415
    from pipeline.report import write_report  # noqa: PLC0415
    from pipeline.report.render import headline  # noqa: PLC0415
    from pipeline.tokens.tokenizer import TokenizerError  # noqa: PLC0415

    try:
        report, written = write_report(output, options, show_progress=show_progress)
    except TokenizerError as e:
        console.print(f"[red]error:[/red] {e}")
        return exit_codes.INVALID
    except Exception as e:  # noqa: BLE001 - one line and a distinct exit status; the data itself is untouched
        console.print(f"[red]error:[/red] the report failed ({type(e).__name__}: {escape(str(e))})")
        return exit_codes.REPORT_FAILED
    console.print(headline(report), markup=False)
    console.print(f"report: {output.rstrip('/')}/{written[-1]} (and report.json, report.md)", markup=False)
    if report["reconciliation"]["ok"] is False:
        bad = [
            f"{c['what']} ({c['report']} vs {c.get('stats.json', c.get('manifest.json'))})"
            for c in report["reconciliation"]["checks"]
            if not c["ok"]
        ]
        console.print(f"[red]error:[/red] the output does not reconcile: {escape('; '.join(bad))}")
        return exit_codes.UNRECONCILED
    return exit_codes.OK


def cmd_report(args: argparse.Namespace) -> int:
    from datatrove.io import get_datafolder  # noqa: PLC0415

    from pipeline.output import normalize_output  # noqa: PLC0415

    output = normalize_output(args.output)
    folder = get_datafolder(output)
    if not any(folder.exists(entry) for entry in ("data", "removed", "stats.json")):
        console.print(f"[red]error:[/red] {output} is not a Curate output (no data/, removed/ or stats.json)")
        return 2
    return run_report(output, options_from_args(args), show_progress=not args.no_progress)


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="token counts, Chinchilla budgets and the data-quality report of an output folder"
    )
    parser.add_argument("output", help="a run's output folder (local path or fsspec URL)")
    add_report_options(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_report)
