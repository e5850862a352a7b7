"""Build ``report.json`` from a run's output alone (never from the recipe, never by re-running a model).

The report answers: how many tokens of what quality are there, where did the rest go, and which model sizes is
that enough for. Its pieces and where each comes from:

* funnel: documents, tokens and bytes per source at the input and after every stage. The input of a source is
  what was kept plus what every stage dropped (the ledger ``removed/<label>/`` holds each dropped document);
  stages come in ``stats.json``'s order. Tokens are the ``token_count`` column where the ``token_count`` stage
  wrote it; ledger rows dropped before that stage (or every row, if the recipe has no ``token_count``) are counted
  here with the same tokenizer: the copy the stage saved in ``work/<label>/tokenizer.json``, else ``--tokenizer``
  (default ``gpt2``).
* drop reasons ranked by the tokens they removed; each source's share of the final mixture.
* by language (``languages.py``): the same funnel per ``language`` label, where ``language_filter`` wrote one.
* Chinchilla budgets (``chinchilla.py``) for the kept tokens.
* quality: histograms of every numeric column (``quality_score``, ``language_score``, recorded
  ``<stage>.<signal>`` values) and of document length in tokens, kept and dropped apart; dedup cluster sizes
  (``work/<label>/dedup_stats.json`` if a dedup stage wrote one, else from the ledger's ``duplicate_of``); PII
  counts by type (``stats.json`` counters named ``pii_<TYPE>``).
* examples: the first few kept documents and a few dropped ones per stage, reasons varied, cut short, their text
  and URL scrubbed with the ``pii`` stage's own detector (its entities, threshold and allow-list, which the stage
  saved in ``work/<label>/pii.json``) and, when the recipe had no ``pii`` stage, with that detector's defaults
  (e-mail, phone, IP, card, IBAN, SSN). ``pii.examples_detector`` says which.
* reconciliation with ``stats.json`` (documents per source and stage, the ``token_count`` stage's token
  counters) and ``manifest.json`` (rows per shard folder).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from datatrove.io import get_datafolder

from pipeline.report import chinchilla, training
from pipeline.report.extraction import build_extraction
from pipeline.report.languages import build_languages
from pipeline.report.scan import KEPT, Scan, Tally, scan_output, total_rows
from pipeline.tokens.tokenizer import (
    DEFAULT_TOKENIZER,
    counter_for,
    fingerprint,
    load_tokenizer,
    resolve_tokenizer,
    tokenizer_from_str,
)

REPORT_DIR = "report"
REPORT_VERSION = 1
WORK_DIR = "work"


@dataclass
class ReportOptions:
    tokenizer: str | None = None  # used only when no token_count stage saved its tokenizer in the output
    model_sizes: list[float] = field(default_factory=lambda: list(chinchilla.DEFAULT_MODEL_SIZES))
    budgets: list[float] = field(default_factory=lambda: list(chinchilla.DEFAULT_BUDGETS))
    tokens_per_parameter: float = chinchilla.TOKENS_PER_PARAMETER


def _read_json(folder: Any, path: str) -> Any:
    if not folder.exists(path):
        return None
    with folder.open(path, "rb") as f:
        return orjson.loads(f.read())


class TokenSource:
    """The tokenizer the report counts with, loaded only if some row has no ``token_count``."""

    def __init__(self, folder: Any, override: str | None):
        self.folder = folder
        self.saved = None
        for path in sorted(folder.glob(f"{WORK_DIR}/*/token_count.json")):
            label = path.split("/")[-2]
            info = _read_json(folder, path)
            if info and folder.exists(f"{WORK_DIR}/{label}/tokenizer.json"):
                self.saved = {**info, "label": label, "path": f"{WORK_DIR}/{label}/tokenizer.json"}
                break
        self.override = override
        if self.saved:
            self.name = self.saved["tokenizer"]
        else:
            self.name = resolve_tokenizer(override or DEFAULT_TOKENIZER).name
        self._tokenizer = None
        self._counter = None

    def tokenizer(self):
        if self._tokenizer is None:
            if self.saved:
                with self.folder.open(self.saved["path"], "rt") as f:
                    self._tokenizer = tokenizer_from_str(f.read())
            else:
                self._tokenizer = load_tokenizer(self.override or DEFAULT_TOKENIZER)
        return self._tokenizer

    def count(self, texts: list[str]) -> list[int]:
        if self._counter is None:
            self._counter = counter_for(self.tokenizer())
        return self._counter(texts)

    def describe(self, scan: Scan) -> dict:
        out = {
            "name": self.name,
            "special_tokens": False,
            "from": "token_count stage" if self.saved else "report",
            "rows_with_token_count_column": scan.rows_with_token_count,
            "rows_counted_by_report": scan.rows_counted_here,
        }
        if self.saved:
            out["stage"] = self.saved["label"]
            out["saved_copy"] = self.saved["path"]
            out["sha256"] = self.saved.get("sha256")
        elif self._tokenizer is not None:
            out["sha256"] = fingerprint(self._tokenizer)
        return out


def _scrubber(folder: Any) -> tuple[Callable[[str], str], dict]:
    """The ``pii`` stage's detector (replacing what it finds with its tag), and a description of it."""
    # shared_scrubber: after `curate run` in the same process, the run's own scrubber when the parameters match
    from pipeline.pii.scrubber import DETECTION_FILE, PiiParams, shared_scrubber  # noqa: PLC0415

    saved = None
    for path in sorted(folder.glob(f"{WORK_DIR}/*/{DETECTION_FILE}")):
        saved = _read_json(folder, path)
        if saved:
            break
    if saved:
        try:
            scrubber = shared_scrubber(PiiParams(**saved["detection"], action="replace"))
            return scrubber, {"from": f"pii stage {saved.get('stage')}", **saved["detection"]}
        except (ValueError, TypeError, OSError, ImportError) as e:  # e.g. its spaCy model is not installed here
            fallback = f"the pii stage's detector could not be built here ({type(e).__name__}: {e})"
    else:
        fallback = "no pii stage in this run"
    params = PiiParams()
    return shared_scrubber(params), {"from": f"defaults ({fallback})", "entities": params.entities}


def _stage_order(stats: dict | None, scan: Scan) -> list[str]:
    order = [s["stage"] for s in (stats or {}).get("stages", [])]
    for label, _, _ in scan.dropped:
        if label not in order:
            order.append(label)
    return order


def _source_order(stats: dict | None, scan: Scan) -> list[str]:
    order = list((stats or {}).get("sources", {}))
    for src in [*scan.kept_by_source, *(s for _, s, _ in scan.dropped)]:
        if src not in order:
            order.append(src)
    return order


def build_funnel(scan: Scan, stages: list[str], sources: list[str]) -> list[dict]:
    """Documents, tokens and bytes per source at the input and after each stage."""
    dropped_at: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for (label, src, _), t in scan.dropped.items():
        dropped_at[label][src].add(t.documents, t.tokens, t.bytes)
    current = {}
    for src in sources:
        tally = Tally()
        k = scan.kept_by_source.get(src, Tally())
        tally.add(k.documents, k.tokens, k.bytes)
        for label in stages:
            d = dropped_at[label].get(src, Tally())
            tally.add(d.documents, d.tokens, d.bytes)
        current[src] = tally

    def row(name: str, dropped: dict[str, Tally] | None) -> dict:
        total = Tally()
        for t in current.values():
            total.add(t.documents, t.tokens, t.bytes)
        entry = {"stage": name, **total.as_dict(), "by_source": {s: current[s].as_dict() for s in sources}}
        if dropped is not None:
            d = Tally()
            for t in dropped.values():
                d.add(t.documents, t.tokens, t.bytes)
            entry["dropped"] = d.as_dict()
            entry["dropped_by_source"] = {s: dropped.get(s, Tally()).as_dict() for s in sources}
        return entry

    funnel = [row("input", None)]
    for label in stages:
        dropped = dropped_at.get(label, {})
        for src, d in dropped.items():
            c = current[src]
            current[src] = Tally(c.documents - d.documents, c.tokens - d.tokens, c.bytes - d.bytes)
        funnel.append(row(label, dropped))
    return funnel


def drop_reasons(scan: Scan, input_tokens: int) -> list[dict]:
    merged: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for (label, _, reason), t in scan.dropped.items():
        merged[(label, reason)].add(t.documents, t.tokens, t.bytes)
    rows = [
        {
            "stage": label,
            "reason": reason,
            **t.as_dict(),
            "share_of_input_tokens": t.tokens / input_tokens if input_tokens else 0.0,
        }
        for (label, reason), t in merged.items()
    ]
    return sorted(rows, key=lambda r: (-r["tokens"], -r["documents"], r["stage"], r["reason"]))


def mixture(scan: Scan, sources: list[str]) -> dict:
    total = Tally()
    for t in scan.kept_by_source.values():
        total.add(t.documents, t.tokens, t.bytes)
    out = {}
    for src in sources:
        t = scan.kept_by_source.get(src, Tally())
        out[src] = {
            **t.as_dict(),
            "share_documents": t.documents / total.documents if total.documents else 0.0,
            "share_tokens": t.tokens / total.tokens if total.tokens else 0.0,
            "share_bytes": t.bytes / total.bytes if total.bytes else 0.0,
        }
    return out


def dedup_clusters(folder: Any, scan: Scan) -> dict:
    """Cluster sizes (members per cluster, the kept one included) per dedup stage."""
    out: dict[str, dict] = {}
    for path in sorted(folder.glob(f"{WORK_DIR}/*/dedup_stats.json")):
        label = path.split("/")[-2]
        info = _read_json(folder, path) or {}
        sizes = info.get("cluster_sizes")
        if isinstance(sizes, list):
            sizes = Counter(int(s) for s in sizes)
        if isinstance(sizes, dict) and sizes:
            hist = {int(k): int(v) for k, v in sizes.items()}
            out[label] = {"from": path, "cluster_sizes": dict(sorted(hist.items()))}
    for label, targets in scan.duplicate_of.items():
        if label in out or not targets:
            continue
        hist = Counter(1 + n for n in targets.values())
        out[label] = {"from": f"removed/{label} duplicate_of", "cluster_sizes": dict(sorted(hist.items()))}
    for entry in out.values():
        sizes = entry["cluster_sizes"]
        entry["clusters"] = sum(sizes.values())
        entry["duplicates_removed"] = sum((size - 1) * n for size, n in sizes.items())
        entry["largest_cluster"] = max(sizes) if sizes else 0
        entry["cluster_sizes"] = {str(size): n for size, n in sizes.items()}  # JSON keys are strings
    return out


def pii_counts(stats: dict | None) -> dict:
    by_type: Counter = Counter()
    by_stage: dict[str, dict[str, int]] = {}
    for stage in (stats or {}).get("stages", []):
        found = {k.removeprefix("pii_"): int(v) for k, v in stage.get("counters", {}).items() if k.startswith("pii_")}
        if found:
            by_stage[stage["stage"]] = found
            by_type.update(found)
    return {"by_type": dict(by_type.most_common()), "by_stage": by_stage}


def reconcile(scan: Scan, funnel: list[dict], stats: dict | None, manifest: dict | None) -> dict:
    """Every number the report shares with ``stats.json`` and ``manifest.json``, and whether they agree."""
    kept = sum(t.documents for t in scan.kept_by_source.values())
    dropped = sum(t.documents for t in scan.dropped.values())
    checks: list[dict] = []

    def check(what: str, report_value: Any, other: Any, where: str) -> None:
        checks.append({"what": what, "report": report_value, where: other, "ok": report_value == other})

    if stats:
        check("documents read", kept + dropped, stats.get("documents_read"), "stats.json")
        check("documents kept", kept, stats.get("kept"), "stats.json")
        check("documents dropped", dropped, stats.get("dropped"), "stats.json")
        if "duplicate_ids" in stats:  # finalize compares every id of data/ and removed/; none may repeat
            check("ids written more than once", 0, stats["duplicate_ids"], "stats.json")
        for src, s in stats.get("sources", {}).items():
            check(
                f"{src}: documents kept", scan.kept_by_source.get(src, Tally()).documents, s.get("kept"), "stats.json"
            )
        by_label = {row["stage"]: row for row in funnel}
        labels = [row["stage"] for row in funnel]
        for stage in stats.get("stages", []):
            row = by_label.get(stage["stage"])
            if row is None:
                continue
            before = funnel[labels.index(stage["stage"]) - 1]
            check(f"{stage['stage']}: documents in", before["documents"], stage.get("in"), "stats.json")
            check(f"{stage['stage']}: documents dropped", row["dropped"]["documents"], stage["dropped"], "stats.json")
            counters = stage.get("counters", {})
            if "doc_len_tokens" in counters:  # datatrove's filters sum the token_count of the documents they keep
                check(f"{stage['stage']}: tokens kept", row["tokens"], int(counters["doc_len_tokens"]), "stats.json")
            if "tokens" in counters:  # the token_count stage counted what flowed through it
                check(f"{stage['stage']}: tokens in", before["tokens"], int(counters["tokens"]), "stats.json")
                for src, t in before["by_source"].items():
                    if f"tokens/{src}" in counters or t["documents"]:
                        check(
                            f"{stage['stage']}: {src} tokens in",
                            t["tokens"],
                            int(counters.get(f"tokens/{src}", 0)),
                            "stats.json",
                        )
    if manifest:
        check("documents kept", kept, manifest.get("data", {}).get("rows"), "manifest.json")
        removed = manifest.get("removed", {})
        for label in sorted({lbl for lbl, _, _ in scan.dropped} | set(removed)):
            n = sum(t.documents for (lbl, _, _), t in scan.dropped.items() if lbl == label)
            check(f"removed/{label}: documents", n, removed.get(label, {}).get("rows", 0), "manifest.json")
    # ok is None when there was nothing to check against (stats.json and manifest.json both missing)
    return {"ok": all(c["ok"] for c in checks) if checks else None, "checks": checks}


def build_report(
    output_dir: str, options: ReportOptions | None = None, progress: Callable[[int], None] | None = None
) -> dict:
    options = options or ReportOptions()
    folder = get_datafolder(output_dir)
    stats = _read_json(folder, "stats.json")
    manifest = _read_json(folder, "manifest.json")
    tokens = TokenSource(folder, options.tokenizer)
    scrub, detector = _scrubber(folder)
    scan = scan_output(folder, tokens.count, scrub, progress=progress)

    stages = _stage_order(stats, scan)
    sources = _source_order(stats, scan)
    funnel = build_funnel(scan, stages, sources)
    kept_tokens = sum(t.tokens for t in scan.kept_by_source.values())
    histograms = {name: h.as_dict() for name, h in scan.histograms.items() if h.n}
    examples = {"kept": scan.examples.get(KEPT, [])}
    for label in stages:
        if scan.examples.get(label):
            examples[label] = scan.examples[label]
    return {
        "report_version": REPORT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "output": output_dir,
        "recipe": (manifest or {}).get("recipe"),
        "tokenizer": tokens.describe(scan),
        "totals": {
            "input": {k: funnel[0][k] for k in ("documents", "tokens", "bytes")},
            "kept": {k: funnel[-1][k] for k in ("documents", "tokens", "bytes")},
            "bad_input": (stats or {}).get("bad_input"),
            "shards_read": scan.files,
        },
        "stages": stages,
        "sources": sources,
        "funnel": funnel,
        "extraction": build_extraction(stats, scan, stages),
        "drop_reasons": drop_reasons(scan, funnel[0]["tokens"]),
        "mixture": mixture(scan, sources),
        "languages": build_languages(scan, stages),
        "chinchilla": chinchilla.budgets(
            kept_tokens, options.model_sizes, options.budgets, options.tokens_per_parameter
        ),
        "histograms": histograms,
        "dedup": dedup_clusters(folder, scan),
        "pii": {**pii_counts(stats), "examples_detector": detector},
        "contamination": training.contamination(folder, scan),
        "training_tokens": training.training_tokens(folder, options),
        "examples": examples,
        "reconciliation": reconcile(scan, funnel, stats, manifest),
        "missing": [name for name, v in (("stats.json", stats), ("manifest.json", manifest)) if v is None],
    }


def count_rows(output_dir: str) -> int:
    return total_rows(get_datafolder(output_dir))
