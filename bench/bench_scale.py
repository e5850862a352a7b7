"""The FineWeb-style recipe at 1x, 4x and 16x the input, with 2 workers: time, memory per process, disk, ledger.

Input, built here from the real pages of ``../shared/data/web``: documents recombined from their paragraphs (3-25
paragraphs drawn at random from ~20k), each paragraph edited on the way (5% of its words replaced by words drawn
from the whole corpus vocabulary, every digit redrawn), so the text is mostly distinct, as a crawl is, and the
tokenization and PII caches cannot answer for whole repeated pages; plus a controlled share of near-duplicates
(``--near-dup 0.1``: a copy of one of the last 1,000 documents with 2% of its words replaced, Jaccard about 0.9),
so MinHash dedup has real work. JSON lines, one file per task.

The recipe is ``bench_e2e.py``'s (token count, language ID, Gopher repetition and quality, C4, FineWeb, quality
classifier, MinHash dedup, PII, Parquet out). Tasks grow with the input (``--tasks-per-x`` per 1x, a file each),
as a real job sizes them, so each task's share stays the same; ``--workers`` run at once.

Measured per size: wall time of ``curate run`` (the whole command, report included), the peak resident memory
of every process of the run (polled every 0.2 s from /proc), grouped by phase (the per-document phases, MinHash's
buckets and clusters phases), the disk used under ``OUTPUT/work`` at the end, and whether ``stats.json``
reconciles (documents read = kept + dropped, and read = generated).

    PYTHONPATH=. python3 bench/bench_scale.py --base-mb 128      # 128 MB, 512 MB, 2 GB (hours on 2 cores)
    PYTHONPATH=. python3 bench/bench_scale.py --base-mb 4        # what fits a busy 2-core dev box
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_e2e import RECIPE
from common import BENCH_OUT, REPO, real_texts

OUT = BENCH_OUT / "scale"
_DIGIT = re.compile(r"\d")
_TICKS = os.sysconf("SC_CLK_TCK")


class Corpus:
    """Paragraphs and vocabulary of the real pages, and the document generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.paragraphs = [p for t in real_texts() for p in t.split("\n") if len(p.split()) >= 5]
        self.vocabulary = [w for p in self.paragraphs for w in p.split()]
        self.recent: list[str] = []

    def _edit(self, text: str, rate: float) -> str:
        rng, vocab = self.rng, self.vocabulary
        words = [rng.choice(vocab) if rng.random() < rate else w for w in text.split(" ")]
        return " ".join(words)

    def document(self, near_dup: float) -> str:
        rng = self.rng
        if self.recent and rng.random() < near_dup:
            return self._edit(rng.choice(self.recent), 0.02)
        picked = rng.sample(self.paragraphs, rng.randint(3, 25))
        text = "\n".join(self._edit(p, 0.05) for p in picked)
        text = _DIGIT.sub(lambda _: str(rng.randint(0, 9)), text)
        self.recent.append(text)
        if len(self.recent) > 1000:
            self.recent.pop(0)
        return text


def build_input(folder: Path, target_bytes: int, files: int, near_dup: float, seed: int) -> tuple[int, int]:
    """``files`` JSON-lines files holding at least ``target_bytes`` of text; returns (documents, text bytes).

    The generator is deterministic, so an input already built with the same settings (``<folder>.built.json``) is
    reused.
    """
    settings = {"target_bytes": target_bytes, "files": files, "near_dup": near_dup, "seed": seed}
    marker = folder.with_name(folder.name + ".built.json")  # beside the folder: the recipe reads all of it
    if marker.exists():
        built = json.loads(marker.read_text())
        if built.get("settings") == settings:
            return built["documents"], built["text_bytes"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    corpus = Corpus(seed)
    outs = [open(folder / f"part-{i:04d}.jsonl", "w", encoding="utf-8") for i in range(files)]  # noqa: SIM115
    docs = size = 0
    try:
        while size < target_bytes:
            text = corpus.document(near_dup)
            outs[docs % files].write(json.dumps({"id": f"doc-{docs:09d}", "text": text}, ensure_ascii=False) + "\n")
            docs += 1
            size += len(text.encode("utf-8"))
    finally:
        for f in outs:
            f.close()
    marker.write_text(json.dumps({"settings": settings, "documents": docs, "text_bytes": size}))
    return docs, size


class MemoryWatch:
    """Peak RSS of every process under ``root_pid``, polled from /proc, attributed to the phase running then."""

    def __init__(self, root_pid: int, logs: Path):
        self.root_pid = root_pid
        self.logs = logs
        self.peaks: dict[tuple[str, int], float] = {}  # (phase, pid) -> MB
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds (user + system) when last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _phase(self) -> str:
        phases = [p for p in self.logs.glob("[0-9]*") if p.is_dir()] if self.logs.is_dir() else []
        return max(phases, key=lambda p: p.stat().st_mtime).name if phases else "start"

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        out, stack = [], [self.root_pid]
        while stack:
            pid = stack.pop()
            out.append(pid)
            stack += children.get(pid, [])
        return out

    def _loop(self) -> None:
        while not self._stop.is_set():
            phase = self._phase()
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/status") as f:
                        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    self.cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
                except (OSError, StopIteration, IndexError, ValueError):
                    continue
                key = (phase, pid)
                self.peaks[key] = max(self.peaks.get(key, 0.0), rss / 1024)
            time.sleep(0.2)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def by_phase(self) -> dict[str, float]:
        """Largest process of each kind (MB): ``documents`` and ``buckets`` workers, the ``clusters`` task (one task:
        datatrove runs it in the ``curate`` process itself), and that ``main`` process during the other phases."""
        out: dict[str, float] = {}
        for (phase, pid), mb in self.peaks.items():
            if "clusters" in phase and pid == self.root_pid:
                kind = "clusters"
            elif pid == self.root_pid:
                kind = "main"
            else:
                kind = "buckets" if "buckets" in phase else "documents"
            out[kind] = max(out.get(kind, 0.0), mb)
        return out


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6 if path.exists() else 0.0


def run_size(mult: int, args: argparse.Namespace) -> dict:
    folder = OUT / f"input_{mult}x"
    tasks = args.tasks_per_x * mult
    start = time.perf_counter()
    docs, size = build_input(folder, int(args.base_mb * mult * 1e6), tasks, args.near_dup, seed=mult)
    built = time.perf_counter() - start
    output = OUT / f"out_{mult}x"
    shutil.rmtree(output, ignore_errors=True)
    recipe = OUT / f"recipe_{mult}x.yaml"
    recipe.write_text(
        RECIPE.format(input=folder, output=output).replace("tasks: 1, workers: 1", "tasks: 4, workers: 2")
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "pipeline.cli", "run", str(recipe), "--tasks", str(tasks)]
    cmd += ["--workers", str(args.workers)]
    start = time.perf_counter()
    with open(OUT / f"curate_{mult}x.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        with MemoryWatch(proc.pid, output / "logs") as watch:
            code = proc.wait()
    wall = time.perf_counter() - start
    if code != 0:
        sys.exit(f"curate run failed ({code}); see {OUT / f'curate_{mult}x.log'}")
    stats = json.loads((output / "stats.json").read_text())
    dedup = json.loads((output / "work" / "minhash_dedup" / "dedup_stats.json").read_text())
    peaks = watch.by_phase()
    return {
        "x": mult,
        "documents": docs,
        "text_mb": size / 1e6,
        "tasks": tasks,
        "input_built_s": built,
        "wall_s": wall,
        "mb_per_s": size / 1e6 / wall,
        "cpu_s": sum(watch.cpu.values()),  # every process of the run, as last polled (misses <0.2 s of each)
        "peak_rss_mb": peaks,
        "work_mb": du_mb(output / "work"),
        "dedup_work_mb": du_mb(output / "work" / "minhash_dedup"),
        "kept": stats["kept"],
        "near_duplicates_removed": dedup.get("duplicates_removed"),
        "reconciled": bool(stats["reconciled"]) and stats["documents_read"] == docs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-mb", type=float, default=128.0, help="text at 1x (MB); 4x and 16x follow")
    parser.add_argument("--sizes", default="1,4,16", help="multiples of --base-mb to run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks-per-x", type=int, default=4, help="tasks (and input files) per 1x of input")
    parser.add_argument("--near-dup", type=float, default=0.1, help="share of documents that near-duplicate another")
    parser.add_argument("--build-only", action="store_true", help="only build (or check) the inputs, run nothing")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    header = (
        f"{'size':>5} {'docs':>9} {'MB':>8} {'tasks':>5} {'wall s':>8} {'CPU s':>8} {'MB/s':>6} {'docs RSS':>9} "
        f"{'bucket RSS':>10} {'cluster RSS':>11} {'main RSS':>8} {'work/ MB':>9} {'dedup MB':>9} {'dups':>7} reconciled"
    )
    if args.build_only:
        for mult in (int(x) for x in args.sizes.split(",")):
            target = int(args.base_mb * mult * 1e6)
            docs, size = build_input(OUT / f"input_{mult}x", target, args.tasks_per_x * mult, args.near_dup, mult)
            print(f"{mult}x: {docs:,} documents, {size / 1e6:.1f} MB of text in {OUT / f'input_{mult}x'}")
        return 0
    print(header)
    for mult in (int(x) for x in args.sizes.split(",")):
        r = run_size(mult, args)
        rows.append(r)
        p = r["peak_rss_mb"]
        print(
            f"{r['x']:>4}x {r['documents']:>9,} {r['text_mb']:>8.1f} {r['tasks']:>5} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
            f"{r['mb_per_s']:>6.2f} {p.get('documents', 0):>9.0f} {p.get('buckets', 0):>10.0f} "
            f"{p.get('clusters', 0):>11.0f} {p.get('main', 0):>8.0f} {r['work_mb']:>9.1f} {r['dedup_work_mb']:>9.1f} "
            f"{r['near_duplicates_removed'] or 0:>7,} {r['reconciled']}",
            flush=True,
        )
    (OUT / "results.json").write_text(json.dumps(rows, indent=2))
    return 0 if all(r["reconciled"] for r in rows) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
