"""Benchmark: FineWeb-2's filter chain, datatrove against Curate, on the same real Chinese and German text.

For each language, datatrove's ``GopherRepetitionFilter -> FineWebQualityFilter -> GopherQualityFilter`` built as
FineWeb-2's pipeline script builds them (the language's FineWeb-2 config, ``language=<code>``) and Curate's
stages with ``{language: <code>, thresholds: fineweb2}`` run over the same documents in one process. The run
checks that decisions and reasons are identical, then prints docs/s and characters/s for each and the ratio.
Curate's caches (word chunks, jieba chunks, analyses) are emptied before each of its rounds, and datatrove's
(``split_into_parts`` keeps the last 5 texts) before each of its, so every round starts cold on both sides; both
sides are warmed once (dictionary and pipeline loading is not timed). A last set of rounds keeps Curate's caches
(every chunk seen before): the bound a long run nears for frequent words.

Text: every page of the shipped samples (DCLM's Common Crawl pages, the readability pages) that lid.176 labels
``zh`` or ``de``, plus, for German, spaCy's German example sentences joined as one page (little German web text
ships with Curate). The samples are small, so timings are short: use several rounds.

    PYTHONPATH=. python3 bench/bench_multilingual.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import zstandard  # noqa: E402
from common import REPO, run_filter_chain  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from datatrove.utils.text import split_into_parts  # noqa: E402
from test_filters_parity_multilingual import datatrove_filters  # noqa: E402

from pipeline.filters import word_analysis  # noqa: E402
from pipeline.filters.language_filter import DEFAULT_MODEL  # noqa: E402
from pipeline.filters.languages import lid_label  # noqa: E402
from pipeline.registry import StageContext, get_stage  # noqa: E402
from pipeline.resources import data_path  # noqa: E402

LANGUAGES = ("cmn_Hani", "deu_Latn")
STAGES = ("gopher_repetition", "fineweb_quality", "gopher_quality")


def load_pages() -> dict[str, list[str]]:
    import fasttext

    model = fasttext.load_model(str(DEFAULT_MODEL))
    with open(next(data_path("samples", "dclm").rglob("*.jsonl.zst")), "rb") as f:
        pages = [json.loads(line)["text"] for line in zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()]
    with open(data_path("samples", "multilingual", "readability-pages.jsonl"), encoding="utf-8") as f:
        pages += [json.loads(line)["text"] for line in f]
    out: dict[str, list[str]] = {code: [] for code in LANGUAGES}
    for text in pages:
        label = model.predict(text.replace("\n", " "))[0][0].removeprefix("__label__")
        for code in LANGUAGES:
            if lid_label(code) == label:
                out[code].append(text)
    from spacy.lang.de.examples import sentences

    out["deu_Latn"].append("\n".join(sentences))
    return out


def datatrove_chain(code: str) -> list:
    """datatrove's filters as fineweb-2-pipeline.py builds them: the parity test's own construction."""
    return list(datatrove_filters(code).values())


def curate_chain(code: str) -> list:
    chain = []
    for stage in STAGES:
        spec = get_stage(stage)
        ctx = StageContext(name=stage, label=stage, output_dir="", work_dir="", tasks=1)
        chain.append(spec.factory(spec.params.model_validate({"language": code, "thresholds": "fineweb2"}), ctx))
    return chain


def run_chain(chain: list, texts: list[str]) -> tuple[float, list[str | None]]:
    seconds, outcomes = run_filter_chain(chain, [(str(i), text) for i, text in enumerate(texts)])
    return seconds, [reason for reason, _ in outcomes]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pages = load_pages()
    failed = False
    for code in LANGUAGES:
        texts = pages[code]
        chars = sum(map(len, texts))
        dt, cu = datatrove_chain(code), curate_chain(code)
        run_chain(dt, texts[:2])  # warm: dictionaries, spaCy pipelines
        run_chain(cu, texts[:2])
        dt_times, cu_times = [], []
        for _ in range(args.rounds):
            split_into_parts.cache_clear()  # datatrove's own LRU cache (5 texts): cold too
            seconds, dt_out = run_chain(dt, texts)
            dt_times.append(seconds)
            word_analysis.clear_caches()
            seconds, cu_out = run_chain(cu, texts)
            cu_times.append(seconds)
        warm_times = []  # caches kept: every chunk seen before, the bound a long run nears for frequent words
        for _ in range(args.rounds):
            warm_times.append(run_chain(cu, texts)[0])
        same = [a == b for a, b in zip(dt_out, cu_out, strict=True)]
        failed |= not all(same)
        dt_s, cu_s = statistics.median(dt_times), statistics.median(cu_times)
        kept = sum(o is None for o in dt_out)
        print(f"{code}: {len(texts)} pages, {chars:,} characters, kept {kept}; identical decisions: {all(same)}")
        print(f"  datatrove {len(texts) / dt_s:8.1f} docs/s {chars / dt_s:12,.0f} chars/s ({dt_s * 1000:.1f} ms/round)")
        print(f"  curate    {len(texts) / cu_s:8.1f} docs/s {chars / cu_s:12,.0f} chars/s ({cu_s * 1000:.1f} ms/round)")
        warm_s = statistics.median(warm_times)
        print(f"  ratio curate / datatrove: {dt_s / cu_s:.2f}x cold; {dt_s / warm_s:.2f}x with warm caches")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
