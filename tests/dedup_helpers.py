"""Shared pieces of the dedup tests: real pages with controlled edits, and running a multi-phase stage in-process."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from conftest import SHARED
from datatrove.data import Document

from pipeline.registry import MultiPhaseStage, StageContext, get_stage

BOILERPLATE = (
    "Share this article on social media. Subscribe to our newsletter for weekly updates. "
    "Copyright all rights reserved. Privacy policy. Terms of use. Contact us. Cookie settings."
)


def load_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cleaneval() -> tuple[list[dict], list[dict]]:
    web = SHARED / "web"
    return load_jsonl(web / "cleaneval-gold-dev.jsonl.gz"), load_jsonl(web / "cleaneval-justext-dev.jsonl.gz")


def neardup_pairs() -> list[dict]:
    return load_jsonl(SHARED / "web" / "cleaneval-neardup-pairs-dev.jsonl")


def substitute(text: str, rate: float, rng: random.Random) -> str:
    """Replace about ``rate`` of the words with words drawn from the same page (a typo-free rewrite)."""
    tokens = text.split(" ")
    pool = [t for t in tokens if t.isalpha()] or ["word"]
    return " ".join(rng.choice(pool) if rng.random() < rate else t for t in tokens)


def controlled_edits(pages: list[dict], seed: int = 5) -> list[dict]:
    """Variants of real pages with a known kind of edit, tagged with ``family`` (the page they come from)."""
    rng = random.Random(seed)
    out = []
    for page in pages:
        text, pid = page["text"], page["id"]
        lines = text.split("\n")
        variants = {
            "sub1": substitute(text, 0.01, rng),
            "sub2": substitute(text, 0.02, rng),
            "sub4": substitute(text, 0.04, rng),
            "sub7": substitute(text, 0.07, rng),
            "boiler": f"{BOILERPLATE}\n{text}\n{BOILERPLATE}",
            "cut": "\n".join(lines[: max(1, int(len(lines) * 0.9))]),
            "recrawl": text.upper().replace(".", " .").replace("2006", "2024").replace("2007", "2025"),
        }
        for kind, variant in variants.items():
            out.append({"id": f"{pid}~{kind}", "text": variant, "family": pid})
    return out


def run_in_process(name: str, params: dict, ranks: list[list[Document]], work_dir: Path) -> dict[str, str]:
    """Run a multi-phase stage on documents split over ranks: ``{removed id: duplicate_of}``."""
    spec = get_stage(name)
    ctx = StageContext(name=name, label=name, output_dir=str(work_dir), work_dir=str(work_dir), tasks=len(ranks))
    stage = spec.factory(spec.params(**params), ctx)
    assert isinstance(stage, MultiPhaseStage)
    passed = []
    for rank, docs in enumerate(ranks):
        stream = iter(docs)
        for step in stage.collect:
            stream = step.run(stream, rank, len(ranks))
        passed.append(list(stream))
    assert [d.id for r in passed for d in r] == [d.id for r in ranks for d in r]
    for phase in stage.global_phases:
        tasks = phase.tasks or len(ranks)
        for rank in range(tasks):
            for step in phase.steps:
                list(step.run(None, rank, tasks))
    removed = {}
    for rank, docs in enumerate(passed):
        stream = iter(docs)
        for step in stage.apply:
            stream = step.run(stream, rank, len(ranks))
        kept = {d.id for d in stream}
        for d in docs:
            if d.id not in kept:
                removed[d.id] = d.metadata["duplicate_of"]
    return removed


def document(doc_id: str, text: str, order: int, **metadata) -> Document:
    return Document(text=text, id=doc_id, metadata={"read_order": f"0000/test/{order:012d}", **metadata})
