"""``curate calibrate``: thresholds for a language or domain from a reference corpus (method in ``calibrate.py``).

    curate calibrate --reference wiki_de/ --target crawl_de/ --language de --keep 0.95 --output thresholds-de.yaml

Writes the thresholds file (``thresholds: thresholds-de.yaml`` on the filters reads it) and, beside it, a
Markdown report of how much of each corpus every threshold keeps (``thresholds-de.md``). The corpora are read with
Curate's readers (``--format``, as a recipe source's ``format``; default ``jsonl``).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _texts(path: str, fmt: str, limit: int | None, text_key: str | None) -> list[str]:
    from pipeline.readers import read_source
    from pipeline.recipe import SourceConfig

    source = SourceConfig(name="calibrate", format=fmt, path=str(Path(path).resolve()), limit=limit, text_key=text_key)
    return [doc.text for doc in read_source(source) if doc.text]


def cmd_calibrate(args: argparse.Namespace) -> int:
    import yaml

    from pipeline.calibrate import calibrate, markdown_report
    from pipeline.cli import _fail, console

    try:
        reference = _texts(args.reference, args.format, args.limit, args.text_key)
        target = _texts(args.target, args.format, args.limit, args.text_key) if args.target else []
        result = calibrate(
            reference, target, args.language, keep=args.keep, stop_words=args.stop_words, chain_keep=args.chain_keep
        )
    except (ValueError, FileNotFoundError, ImportError) as e:
        return _fail(str(e), 2)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# curate calibrate --reference {args.reference}"
        + (f" --target {args.target}" if args.target else "")
        + f" --language {args.language} --keep {args.keep}"
        + (f" --chain-keep {args.chain_keep}" if args.chain_keep else "")
        + f"\n# use it with `thresholds: {output.name}` on the filters\n"
    )
    with open(output, "w", encoding="utf-8") as f:
        f.write(header)
        yaml.safe_dump(result, f, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)
    report = markdown_report(result, args.reference, args.target)
    output.with_suffix(".md").write_text(report, encoding="utf-8")
    chain = result["calibration"]["chain"]
    console.print(report, markup=False)
    console.print(
        f"reference kept {chain['reference_kept']:.1%}"
        + (f", target kept {chain['target_kept']:.1%}" if "target_kept" in chain else "")
        + f" by the whole chain -> {output} (and {output.with_suffix('.md')})",
        markup=False,
    )
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="propose filter thresholds from a reference corpus (and report them on a target corpus)"
    )
    parser.add_argument("--reference", required=True, help="corpus you trust (file or folder)")
    parser.add_argument("--target", help="corpus you want to filter (file or folder)")
    parser.add_argument("--language", required=True, help="FineWeb-2 code (deu_Latn) or language-ID label (de)")
    parser.add_argument("--keep", type=float, default=0.95, help="share of the reference each threshold keeps")
    parser.add_argument(
        "--chain-keep", type=float, help="instead of --keep: share of the reference all thresholds keep together"
    )
    parser.add_argument("--stop-words", type=int, default=0, help="N>0: stop words = N most common reference words")
    parser.add_argument("--format", default="jsonl", help="corpus format, as a recipe source's (default jsonl)")
    parser.add_argument("--text-key", help="field holding the text (jsonl/parquet)")
    parser.add_argument("--limit", type=int, help="read at most N documents of each corpus")
    parser.add_argument("--output", required=True, help="thresholds file to write (.yaml)")
    parser.set_defaults(func=cmd_calibrate)
