"""``curate``: run, validate and inspect recipes and their outputs.

    curate run RECIPE.yaml [--output DIR] [--executor local|slurm|ray] [--tasks N] [--workers N] [--limit N]
    curate validate RECIPE.yaml
    curate inspect PATH [-n 3]
    curate stages
    curate calibrate --reference REF --target TARGET --language de --output thresholds.yaml

Exit codes (``pipeline/exit_codes.py``): 0 done; 1 a task failed (run again to resume) or nothing could be read;
2 invalid recipe or arguments, a source matching no file, a missing model (all found before any task starts);
3 the output does not reconcile (documents lost or written twice); 4 the report failed (the data is written).
Running the same ``curate run`` again resumes: finished tasks are skipped and unfinished ones start over cleanly.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from pipeline import exit_codes
from pipeline.recipe import Recipe, RecipeError, human_bytes, load_recipe

console = Console(stderr=True, highlight=False, soft_wrap=True)  # paths stay on one line


def _fail(message: str, code: int) -> int:
    console.print(f"[red]error:[/red] {message}", markup=True)
    return code


def _print_recipe_error(err: RecipeError) -> None:
    console.print(f"[red]invalid recipe[/red] {err.path or ''}".rstrip())
    for problem in err.problems:
        console.print(f"  {problem}", markup=False)


# -- run -------------------------------------------------------------------------------------------------------
def _load_checked(path: str) -> Recipe | None:
    """The recipe, validated and with every source finding its files; None (after printing why) otherwise."""
    from pipeline.preflight import source_problems

    try:
        recipe = load_recipe(path)
        problems = source_problems(recipe)
        if problems:
            raise RecipeError(problems, recipe.path)
    except RecipeError as err:
        _print_recipe_error(err)
        return None
    return recipe


def _summary(stats: dict, manifest: dict, output_dir: str) -> None:
    table = Table(title="Curate run summary", show_lines=False)
    for col in ("stage", "in", "kept", "dropped", "top drop reasons"):
        table.add_column(col, justify="right" if col in ("in", "kept", "dropped") else "left")
    table.add_row(
        "read",
        f"{stats['documents_read'] + stats['bad_input']:,}",
        f"{stats['documents_read']:,}",
        f"{stats['bad_input']:,}",
        "bad input" if stats["bad_input"] else "",
    )
    for s in stats["stages"]:
        reasons = sorted(s["dropped_by_reason"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(
            s["stage"],
            f"{s['in']:,}",
            f"{s['kept']:,}",
            f"{s['dropped']:,}",
            ", ".join(f"{k} {v:,}" for k, v in reasons),
        )
    console.print(table)
    src = Table(title="Per source")
    for col in ("source", "read", "bad input", "kept", "dropped"):
        src.add_column(col, justify="left" if col == "source" else "right")
    for name, s in stats["sources"].items():
        src.add_row(name, f"{s['read']:,}", f"{s['bad_input']:,}", f"{s['kept']:,}", f"{s['dropped']:,}")
    console.print(src)
    data = manifest["data"]
    console.print(
        f"kept {data['rows']:,} documents in {len(data['shards'])} shard(s), {human_bytes(data['bytes'])} -> {output_dir}/data/"
    )
    if stats["documents_read"] != stats["kept"] + stats["dropped"]:
        console.print(
            f"[red]error:[/red] documents read ({stats['documents_read']:,}) != kept ({stats['kept']:,}) + "
            f"dropped ({stats['dropped']:,}); see {output_dir}/stats.json"
        )
    if stats.get("duplicate_ids"):
        console.print(
            f"[red]error:[/red] {stats['duplicate_ids']:,} row(s) repeat an id already in data/ or removed/ "
            f"(e.g. {', '.join(stats['duplicate_id_examples'][:3])}); see {output_dir}/stats.json"
        )


def cmd_run(args: argparse.Namespace) -> int:
    gc.disable()  # start-up builds objects that live as long as the run: see _freeze_startup_objects
    thresholds = gc.get_threshold()
    try:
        return _run_recipe(args)
    finally:
        gc.unfreeze()  # the run's objects can be collected again (``main`` called in-process, e.g. by tests)
        gc.set_threshold(*thresholds)
        gc.enable()


def _run_recipe(args: argparse.Namespace) -> int:
    from pipeline import logs
    from pipeline.executors import build_executors, init_ray
    from pipeline.finalize import FinalizeRun, finalize_output
    from pipeline.output import check_resume, is_local, normalize_output, write_run_info
    from pipeline.plan import build_plan, effective_sources, fingerprint
    from pipeline.progress import ProgressDisplay
    from pipeline.readers.corpus_reader import input_digest

    logs.setup_cli_logging(args.verbose)
    recipe = _load_checked(args.recipe)
    if recipe is None:
        return exit_codes.INVALID
    cfg = recipe.model.executor
    if args.executor:
        cfg = cfg.model_copy(update={"kind": args.executor})
    tasks = args.tasks or cfg.tasks
    output_dir = normalize_output(args.output or recipe.model.output.path)  # file:// is a local folder
    local_output = is_local(output_dir)
    try:
        plan = build_plan(recipe, output_dir, tasks=tasks, limit=args.limit, ledger_scrub=_ledger_scrubber(recipe))
    except RecipeError as err:  # stages that do not fit together (a score column no earlier stage writes)
        _print_recipe_error(err)
        return exit_codes.INVALID
    except (ValueError, OSError) as e:  # a stage refused its parameters, or its model, when built
        return _fail(str(e), exit_codes.INVALID)
    run_info = {
        "recipe": recipe.name,
        "recipe_path": recipe.path,
        "tasks": tasks,
        "limit": args.limit,
        "fingerprint": fingerprint(recipe, tasks, args.limit),
        "inputs": input_digest(effective_sources(recipe, args.limit)),
    }
    problem = check_resume(output_dir, run_info, args.overwrite)  # through fsspec: local folders and URLs alike
    if problem:
        return _fail(problem, exit_codes.INVALID)
    write_run_info(output_dir, run_info)

    source_names = [s.name for s in recipe.model.sources]
    finalize_args = (output_dir, recipe.name, plan.stage_labels, source_names)
    console.print(
        f"curate: running [bold]{recipe.name}[/bold] with {cfg.kind} executor, {tasks} task(s), "
        f"{len(plan.phases)} phase(s) -> {output_dir}"
    )
    if cfg.kind == "slurm":
        executors = build_executors(plan, cfg, args.workers, finalize_step=FinalizeRun(*finalize_args))
        try:
            executors[-1].run()
        except (OSError, subprocess.CalledProcessError) as e:
            return _fail(f"could not submit to Slurm ({e}); sbatch said why above", exit_codes.FAILED)
        console.print(
            f"submitted Slurm job arrays; logs under {output_dir}/logs/. The last job writes manifest.json and stats.json."
        )
        return 0
    executors = build_executors(plan, cfg, args.workers)
    if cfg.kind == "ray":
        init_ray(cfg)
    _freeze_startup_objects()
    try:
        if local_output and cfg.kind == "local":
            first = next(p for p in plan.phases if p.per_task)  # prepare phases (an index) read no documents
            with ProgressDisplay(plan.progress_dir(first), tasks):
                executors[-1].run()
        else:
            executors[-1].run()
    except Exception as e:  # noqa: BLE001 - a failed task: say where its log is, exit 1, keep what finished
        from pipeline.tokens.output_plan import run_error  # noqa: PLC0415

        if problem := run_error(output_dir):  # a mixture that cannot be met: its own message, not a stack trace
            return _fail(problem, exit_codes.FAILED)
        return _fail(
            f"the run did not finish ({type(e).__name__}: {e}). Finished tasks are kept; task logs are under "
            f"{output_dir}/logs/<phase>/logs/. Run the same command again to resume.",
            exit_codes.FAILED,
        )
    manifest, stats = finalize_output(*finalize_args)
    _summary(stats, manifest, output_dir)
    if stats["documents_read"] == 0:
        return _fail("no document could be read from any source", exit_codes.FAILED)
    report_code = _report_after_run(output_dir) or exit_codes.OK
    if not stats["reconciled"]:
        return _fail(
            f"the output does not reconcile (see above and {output_dir}/stats.json): do not use it as it is",
            exit_codes.UNRECONCILED,
        )
    return report_code


RUN_GC_THRESHOLD = 50_000  # allocations between young-generation collections during a run (default 700)


def _freeze_startup_objects() -> None:
    """Move everything built so far (modules, models, the plan) out of the garbage collector's sight.

    Those objects live as long as the run, yet every full collection walked them all again: during start-up
    (imports, models) and during the run (measured on the e2e benchmark: 0.9 of 19 CPU-s). So start-up runs with
    the collector off (it makes little garbage: a few thousand objects, not worth a collection's 0.2 s), then
    ``gc.freeze`` takes everything out of later full collections until ``cmd_run`` unfreezes it. It changes what
    is scanned, never what is freed by reference counting; forked workers share the frozen pages.

    The run then collects its youngest generation every 50,000 container allocations instead of every 700: the
    documents, word tuples and token lists a stage makes are freed by reference counting as soon as they are
    dropped, and rarely form cycles, yet the default threshold made the collector scan them again and again
    (0.2-0.3 of 11 CPU-s on the e2e benchmark). Cycles are still collected, only in larger batches."""
    gc.freeze()
    gc.set_threshold(RUN_GC_THRESHOLD, 20, 20)
    gc.enable()


def _report_after_run(output_dir: str) -> int:
    """``curate report`` on the finished output: 0, or the exit code of a report that failed or disagrees."""
    from pipeline.report_cli import run_report

    code = run_report(output_dir)
    if code == exit_codes.INVALID:  # a tokenizer that cannot be loaded: the report failed, the recipe was fine
        code = exit_codes.REPORT_FAILED
    if code == exit_codes.REPORT_FAILED:
        console.print(f"the data is written; make the report again with `curate report {output_dir}`")
    return code


def _ledger_scrubber(recipe: Recipe):
    """When a recipe scrubs PII, documents dropped before the ``pii`` stage are scrubbed in the ledger too."""
    for entry in recipe.stages:
        if entry.name == "pii":
            try:
                from pipeline.pii.scrubber import build_scrubber
            except ImportError:
                return None
            return build_scrubber(entry.params)
    return None


# -- validate / stages -----------------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    from pipeline.plan import build_plan

    recipe = _load_checked(args.recipe)
    if recipe is None:
        return exit_codes.INVALID
    try:
        plan = build_plan(recipe, str(recipe.model.output.path))
    except (ValueError, OSError) as e:
        return _fail(str(e), exit_codes.INVALID)
    m = recipe.model
    console.print(f"[green]ok[/green] {args.recipe}: recipe {m.name!r}")
    for s in m.sources:
        where = s.path or f"hf:{s.hf_dataset} [{s.split}]"
        console.print(
            f"  source {s.name}: {s.format} from {where}" + (f", limit {s.limit}" if s.limit else ""), markup=False
        )
    entries = {e.label: e for e in recipe.stages}
    for label in plan.stage_labels:
        e = entries.get(label)
        if e is None:  # added by the plan: HTML extraction of warc sources
            how = ", ".join(
                f"{s.name}: {s.extractor or 'trafilatura'} (timeout {s.extract_timeout:g}s)"
                for s in m.sources
                if s.format == "warc"
            )
            console.print(f"  stage {label}: HTML to text, added for warc sources ({how})", markup=False)
            continue
        params = e.params.model_dump(exclude_defaults=True)
        if "salt" in params:
            params["salt"] = "***"  # a secret: never printed
        console.print(f"  stage {e.label}: {e.name} {params if params else ''}".rstrip(), markup=False)
    console.print(
        f"  executor: {m.executor.kind}, {plan.tasks} task(s); phases: {', '.join(p.name for p in plan.phases)}"
    )
    console.print(
        f"  output: {m.output.path} ({m.output.compression}, shards <= {human_bytes(int(m.output.shard_max_bytes or 0))})"
    )
    if m.output.tokens:
        t = m.output.tokens
        console.print(f"  tokens: {t.format} shards of {t.tokenizer} ids, shuffle {t.shuffle}", markup=False)
    if m.mixture:
        shares = ", ".join(f"{k} {v.share:.0%} (max {v.max_epochs} epochs)" for k, v in m.mixture.sources.items())
        console.print(f"  mixture: {m.mixture.target_tokens:,} tokens, score {m.mixture.score}: {shares}", markup=False)
    return 0


def cmd_stages(args: argparse.Namespace) -> int:
    from pipeline.registry import available_stages, get_stage

    for name in available_stages():
        spec = get_stage(name)
        fields = ", ".join(
            f"{k} (required)" if v.is_required() else f"{k}={v.get_default(call_default_factory=True)!r}"
            for k, v in spec.params.model_fields.items()
        )
        print(f"{name}: {spec.summary}\n    {fields}")
    return 0


# -- inspect ---------------------------------------------------------------------------------------------------
def cmd_inspect(args: argparse.Namespace) -> int:
    from pipeline.inspect import inspect_path

    try:
        return inspect_path(args.path, args.n, console)
    except FileNotFoundError as e:
        return _fail(str(e), exit_codes.INVALID)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="curate", description="Pretraining-data curation on datatrove.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a recipe (run it again to resume)")
    run.add_argument("recipe")
    run.add_argument("--output", help="output folder or fsspec URL (default: the recipe's output.path)")
    run.add_argument("--executor", choices=["local", "slurm", "ray"])
    run.add_argument("--tasks", type=int, help="number of tasks (default: the recipe's executor.tasks)")
    run.add_argument("--workers", type=int, help="tasks running at once")
    run.add_argument("--limit", type=int, help="read at most N documents from each source")
    run.add_argument("--overwrite", action="store_true", help="delete an earlier run's output in --output first")
    run.add_argument("-v", "--verbose", action="store_true", help="show datatrove's INFO logs")
    run.set_defaults(func=cmd_run)

    validate = sub.add_parser("validate", help="check a recipe without running it")
    validate.add_argument("recipe")
    validate.set_defaults(func=cmd_validate)

    inspect = sub.add_parser("inspect", help="schema, row count and a few documents of an input or output")
    inspect.add_argument("path")
    inspect.add_argument("-n", type=int, default=3, help="documents to show")
    inspect.set_defaults(func=cmd_inspect)

    stages = sub.add_parser("stages", help="list the stages a recipe can use")
    stages.set_defaults(func=cmd_stages)

    for module in ("classifiers.cli", "pipeline.report_cli", "pipeline.status_cli", "pipeline.calibrate_cli"):
        try:
            register = __import__(module, fromlist=["register_cli"]).register_cli
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            continue
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for positive in ("tasks", "workers", "limit"):
        value = getattr(args, positive, None)
        if value is not None and value < 1:
            return _fail(f"--{positive} must be a positive integer, got {value}", exit_codes.INVALID)
    try:
        return args.func(args)
    except BrokenPipeError:  # `curate stages | head`: the reader went away; that is not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0
    finally:
        if argv is None:  # the process's own command line (``curate ...``): the interpreter exits next
            # everything is written and closed: spare the exit its last full collection over every object
            # (0.9 CPU-s after a run: modules, spaCy, Presidio); memory goes back to the system all the same
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
