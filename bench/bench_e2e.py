"""The whole FineWeb-style recipe, Curate against datatrove's closest pipeline, whole processes on one core.

Input: every real page of ``../shared/data/web`` (CleanEval gold + jusText, readability pages, C4, Dolma CCNet,
RedPajama samples), written once to ``bench/out/e2e/input/web.jsonl``; both sides read that file.

* **Curate**: ``curate run`` of a recipe with ``language_filter`` (English > 0.65), ``gopher_repetition``,
  ``gopher_quality``, ``c4_quality`` (no terminal-punctuation rule), ``fineweb_quality``, ``quality_classifier``
  (shipped model, threshold 0.5), ``minhash_dedup`` (0.8), ``pii`` (Presidio's six pattern recognizers, replace),
  and Parquet out, with its drop ledger, manifest, stats and report: 1 task, 1 worker; ``token_count`` (GPT-2)
  first, as the quickstart recommends, so every ledger row carries its count.
* **datatrove** (0.10.1), the same work with its own steps, in its documented MinHash layout:
  1. ``JsonlReader`` -> ``LanguageFilter`` (en, 0.65, the same shipped ``lid.176.ftz``) ->
     ``GopherRepetitionFilter`` -> ``GopherQualityFilter`` -> ``C4QualityFilter(filter_no_terminal_punct=False)``
     -> ``FineWebQualityFilter`` -> ``FastTextClassifierFilter`` (the same quality ``.bin``, ``hq`` >= 0.5), each
     filter with a ``JsonlWriter`` as ``exclusion_writer`` -> ``JsonlWriter`` (the hand-off) ->
     ``MinhashDedupSignature`` (sha1 shingle hashes, datatrove's 14 bands x 8 rows);
  2. ``MinhashDedupBuckets``; 3. ``MinhashDedupCluster``;
  4. ``JsonlReader`` (the hand-off) -> ``MinhashDedupFilter`` -> ``PIIFormatter`` (e-mails and IPs) ->
     ``TokensCounter`` (the shipped GPT-2 ``tokenizer.json``) -> ``ParquetWriter`` (zstd).
  ``LocalPipelineExecutor``, 1 task, 1 worker per phase, all in one process.

Each side is a whole process (``python3 ...``: interpreter start, imports, model loading, everything) pinned to one
core with ``taskset``; the sides alternate (datatrove, Curate, datatrove, Curate, ...) so that load from other jobs
on a shared machine hits both alike. Printed: wall and CPU seconds (user + system of the process tree), MB/s per
core (input text bytes / wall seconds of a process pinned to one core), the ratio, and each step's share of
Curate's time (datatrove's per-step time stats of Curate's run; start-up, finalisation and the report are the rest).

    PYTHONPATH=. python3 bench/bench_e2e.py                # 1 round each side, core 0
    PYTHONPATH=. python3 bench/bench_e2e.py --rounds 2 --core 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import BENCH_OUT, REPO, SHARED

OUT = BENCH_OUT / "e2e"

RECIPE = """\
name: e2e_fineweb
sources:
  - {{name: web, format: jsonl, path: {input}}}
stages:
  - token_count: {{tokenizer: gpt2}}    # first, as the quickstart does: every ledger row carries its count
  - language_filter: {{languages: [en], language_threshold: 0.65}}
  - gopher_repetition: {{}}
  - gopher_quality: {{}}
  - c4_quality: {{filter_no_terminal_punct: false}}
  - fineweb_quality: {{}}
  - quality_classifier: {{threshold: 0.5}}
  - minhash_dedup: {{threshold: 0.8}}
  - pii: {{action: replace}}
output:
  path: {output}
  compression: zstd
executor: {{kind: local, tasks: 1, workers: 1}}
"""

DATATROVE = r"""
import os, sys
os.environ.setdefault("TQDM_DISABLE", "1")
out = sys.argv[1]
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature,
)
from datatrove.pipeline.filters import (
    C4QualityFilter, FastTextClassifierFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter,
    LanguageFilter,
)
from datatrove.pipeline.formatters import PIIFormatter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.tokens import TokensCounter
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
from datatrove.utils.hashing import HashConfig
from datatrove.utils.lid import FT176LID
from fasttext.FastText import _FastText

LID, QUALITY, TOKENIZER = sys.argv[2], sys.argv[3], sys.argv[4]


class LocalLID(FT176LID):
    # datatrove's fastText LID reading the shipped lid.176.ftz instead of downloading lid.176.bin

    @property
    def model(self):
        if self._model is None:
            self._model = _FastText(LID)
        return self._model


class OfflineLanguageFilter(LanguageFilter):
    # datatrove's construction-time check wants the `fasttext-numpy2-wheel` distribution; the project installs
    # `fasttext-numpy2`, the same `fasttext` module: skip only that check, the filter's code is datatrove's own
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.model = LocalLID(self.languages)


class OfflineFastTextClassifierFilter(FastTextClassifierFilter):
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)


def removed(name):
    # JSON lines, as FineWeb's own scripts wrote their removed documents (datatrove's ParquetWriter fixes its
    # schema on the first batch, and a later batch with other metadata keys fails it)
    return JsonlWriter(f"{out}/removed/{name}")


def language_filter():
    return OfflineLanguageFilter(languages=["en"], language_threshold=0.65, exclusion_writer=removed("language"))


def quality():
    return OfflineFastTextClassifierFilter(
        QUALITY, keep_labels=("hq", 0.5), newline_replacement=" ", exclusion_writer=removed("quality")
    )


# sha1 shingle hashes: datatrove's default xxhash path passes str to xxhash, which xxhash 4 refuses
config = MinhashConfig(hash_config=HashConfig(precision=64, hash_fc="sha1"))
logs = f"{out}/logs"
filters = LocalPipelineExecutor(
    pipeline=[
        JsonlReader(sys.argv[5]),
        language_filter(),
        GopherRepetitionFilter(exclusion_writer=removed("gopher_repetition")),
        GopherQualityFilter(exclusion_writer=removed("gopher_quality")),
        C4QualityFilter(filter_no_terminal_punct=False, exclusion_writer=removed("c4")),
        FineWebQualityFilter(exclusion_writer=removed("fineweb")),
        quality(),
        JsonlWriter(f"{out}/handoff"),
        MinhashDedupSignature(output_folder=f"{out}/signatures", config=config),
    ],
    tasks=1, workers=1, logging_dir=f"{logs}/1_filters_signatures",
)
buckets = LocalPipelineExecutor(
    pipeline=[MinhashDedupBuckets(f"{out}/signatures", f"{out}/buckets", config=config)],
    tasks=config.num_buckets, workers=1, logging_dir=f"{logs}/2_buckets", depends=filters,
)
cluster = LocalPipelineExecutor(
    pipeline=[MinhashDedupCluster(f"{out}/buckets", f"{out}/remove_ids", config=config)],
    tasks=1, workers=1, logging_dir=f"{logs}/3_cluster", depends=buckets,
)
final = LocalPipelineExecutor(
    pipeline=[
        JsonlReader(f"{out}/handoff"),
        MinhashDedupFilter(f"{out}/remove_ids", exclusion_writer=removed("minhash")),
        PIIFormatter(),
        TokensCounter(TOKENIZER),
        ParquetWriter(f"{out}/data", compression="zstd"),
    ],
    tasks=1, workers=1, logging_dir=f"{logs}/4_filter_pii_tokens_write", depends=cluster,
)
final.run()
"""


def prepare() -> tuple[Path, int, int]:
    """The real pages as one JSON-lines file (id, text, url, source): what both sides read."""
    import gzip

    path = OUT / "input" / "web.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    docs, size = 0, 0
    with open(path, "w", encoding="utf-8") as out:
        for src in sorted((SHARED / "web").rglob("*.jsonl*")):
            if "neardup-pairs" in src.name:
                continue
            opener = gzip.open if src.suffix == ".gz" else open
            with opener(src, "rt", encoding="utf-8") as f:
                for i, line in enumerate(f):
                    record = json.loads(line)
                    text = record.get("text")
                    if not isinstance(text, str) or not text.strip():
                        continue
                    row = {"id": f"{src.name}:{record.get('id', i)}", "text": text, "url": record.get("url")}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    docs += 1
                    size += len(text.encode("utf-8"))
    return path, docs, size


def timed_process(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the whole process tree) of one command."""
    os.sync()  # the other side's output is on disk first: neither side waits for the other's write-back
    before = os.times()
    start = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:6])[:80]}... failed with exit code {proc.returncode}; see {log}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def run_datatrove(core: str, input_path: Path, env: dict[str, str]) -> tuple[float, float]:
    from classifiers.quality_classifier import DEFAULT_MODEL as QUALITY
    from pipeline.filters.language_filter import DEFAULT_MODEL as LID
    from pipeline.tokens.tokenizer import SHIPPED

    out = OUT / "datatrove"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = ["taskset", "-c", core, sys.executable, "-c", DATATROVE, str(out), str(LID), str(QUALITY)]
    cmd += [str(SHIPPED["gpt2"]), str(input_path)]
    return timed_process(cmd, env, OUT / "datatrove.log")


def run_curate(core: str, recipe: Path, env: dict[str, str]) -> tuple[float, float]:
    out = OUT / "curate"
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["taskset", "-c", core, sys.executable, "-m", "pipeline.cli", "run", str(recipe), "--output", str(out)]
    return timed_process(cmd, env, OUT / "curate.log")


def step_times(output: Path) -> dict[str, float]:
    """Seconds per step of a run, from datatrove's per-task stats (``logs/<phase>/stats/*.json``)."""
    times: dict[str, float] = {}
    for stats_file in sorted(output.glob("logs/*/stats/*.json")):
        for step in json.loads(stats_file.read_text()):
            name = step["name"]
            if name.split(":")[0] in ("reset",):
                continue
            stats = step.get("time_stats")
            total = stats.get("total", 0.0) if isinstance(stats, dict) else 0.0
            times[name] = times.get(name, 0.0) + total
    return times


def stage_cpu(recipe: Path, output: Path) -> list[tuple[str, float, int]]:
    """CPU seconds of each step of Curate's plan, run in this process one step at a time over the documents
    (a list between steps): ``(step, seconds, documents in)``. A filter's time includes its drop ledger (scrubbed
    of PII, as ``curate run`` does with a ``pii`` stage). Start-up, finalisation and the report excluded."""
    from pipeline.cli import _ledger_scrubber
    from pipeline.plan import build_plan
    from pipeline.recipe import load_recipe

    shutil.rmtree(output, ignore_errors=True)
    loaded = load_recipe(str(recipe))
    plan = build_plan(loaded, str(output), tasks=1, ledger_scrub=_ledger_scrubber(loaded))
    rows = []
    for phase in plan.phases:
        docs = None
        for step in phase.steps:
            n = len(docs) if docs is not None else 0
            start = time.process_time()
            docs = list(step.run(iter(docs) if docs is not None else None, 0, 1) or [])
            rows.append((step.stats.name, time.process_time() - start, n))
    return rows


def kept_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.rglob("*.parquet"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each side, alternating")
    parser.add_argument("--core", default="0", help="the CPU both sides are pinned to (taskset -c)")
    parser.add_argument("--curate-only", action="store_true", help="time Curate alone (for profiling sessions)")
    parser.add_argument("--stage-cpu", action="store_true", help="only: CPU seconds per step of Curate's plan")
    args = parser.parse_args()

    input_path, docs, size = prepare()
    mb = size / 1e6
    recipe = OUT / "recipe.yaml"
    recipe.write_text(RECIPE.format(input=input_path, output=OUT / "curate"))
    if args.stage_cpu:
        rows = stage_cpu(recipe, OUT / "curate_in_process")
        total = sum(seconds for _, seconds, _ in rows)
        print(f"Curate's steps in one process, CPU seconds ({mb:.1f} MB in, {total:.2f} s in all):")
        for name, seconds, n in rows:
            if seconds >= 0.005:
                print(f"  {name:<28} {seconds:7.2f} s  {100 * seconds / total:5.1f}%  {n:>6,} documents in")
        return 0
    # Curate runs from this checkout: byte-compile it first, as ``pip install`` does for an installed package and
    # as datatrove's is, or a machine with PYTHONDONTWRITEBYTECODE set compiles a hundred modules on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "pipeline", "classifiers"], cwd=REPO, check=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
    env.update({"TOKENIZERS_PARALLELISM": "false", "TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1"})
    print(f"input: {docs:,} real pages of shared/data/web, {mb:.1f} MB of text; pinned to core {args.core}")

    results: dict[str, list[tuple[float, float]]] = {"datatrove": [], "curate": []}
    for r in range(args.rounds):
        sides = ("curate",) if args.curate_only else ("datatrove", "curate")
        for side in sides:
            run = (
                run_datatrove(args.core, input_path, env) if side == "datatrove" else run_curate(args.core, recipe, env)
            )
            results[side].append(run)
            wall, cpu = run
            print(f"  round {r + 1} {side:<9} wall {wall:7.1f} s  cpu {cpu:7.1f} s  {mb / wall:6.2f} MB/s per core")

    def median(side: str, i: int) -> float:
        return statistics.median(run[i] for run in results[side])

    print("median over rounds:")
    for side in results:
        if results[side]:
            print(
                f"  {side:<9} wall {median(side, 0):7.1f} s  cpu {median(side, 1):7.1f} s  "
                f"{mb / median(side, 0):6.2f} MB/s per core (wall)  {mb / median(side, 1):6.2f} MB/s per CPU-second"
            )
    if results["datatrove"]:
        print(
            f"  ratio curate / datatrove: {median('datatrove', 0) / median('curate', 0):.2f}x wall, "
            f"{median('datatrove', 1) / median('curate', 1):.2f}x cpu"
        )
        print(
            f"  kept: datatrove {kept_rows(OUT / 'datatrove' / 'data'):,}, "
            f"curate {kept_rows(OUT / 'curate' / 'data'):,} documents"
        )

    steps = step_times(OUT / "curate")
    wall = results["curate"][-1][0]
    print(f"Curate's last run by step (datatrove's time stats; {wall:.1f} s wall):")
    for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<32} {seconds:7.2f} s  {100 * seconds / wall:5.1f}%")
    rest = wall - sum(steps.values())
    print(f"  {'start-up, finalise, report':<32} {rest:7.2f} s  {100 * rest / wall:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
