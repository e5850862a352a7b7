"""``exact_dedup``: same normalised text -> one survivor, the same for any task count, ledger with duplicate_of."""

from __future__ import annotations

import json
from collections import Counter

from conftest import output_ids, read_rows, run_curate, write_jsonl, write_recipe
from dedup_helpers import cleaneval, document, run_in_process

from pipeline.dedup.shingles import Normalisation, normalise


def corpus_rows() -> list[dict]:
    gold, justext = cleaneval()
    rows = []
    for i, page in enumerate(gold[:60]):
        rows.append({"id": page["id"], "text": page["text"]})
        if i % 3 == 0:  # re-crawl: other case, punctuation, numbers and spacing
            upper = "".join(c.upper() if c.isascii() else c for c in page["text"])  # "µ".upper() is Greek
            recrawl = upper.replace(" ", "  ").replace("1", "7") + " !"
            rows.append({"id": f"{page['id']}~recrawl", "text": recrawl})
        if i % 5 == 0:
            rows.append({"id": f"{page['id']}~copy", "text": page["text"]})
    rows += [{"id": j["id"], "text": j["text"]} for j in justext[:20]]  # near, not exact, duplicates: kept
    rows += [{"id": "blank-1", "text": "  "}, {"id": "blank-2", "text": "\n"}]
    return rows


def test_exact_dedup_same_ids_for_1_and_3_tasks(tmp_path):
    rows = corpus_rows()
    corpus_file = write_jsonl(tmp_path / "corpus.jsonl", rows)
    ledgers = []
    for tasks, workers in ((1, 1), (3, 2)):
        out = tmp_path / f"out{tasks}"
        recipe = write_recipe(
            tmp_path / f"r{tasks}.yaml",
            {
                "name": "exact",
                "sources": [{"name": "web", "format": "jsonl", "path": str(corpus_file)}],
                "stages": [{"exact_dedup": {}}],
                "output": {"path": str(out)},
                "executor": {"tasks": tasks, "workers": workers},
            },
        )
        assert run_curate("run", recipe) == 0
        ledger = read_rows(out / "removed" / "exact_dedup", ["id", "reason", "duplicate_of"])
        assert {r["reason"] for r in ledger} == {"exact_duplicate"}
        ledgers.append({r["id"]: r["duplicate_of"] for r in ledger})
        kept, removed = output_ids(out)
        assert sorted(kept + removed) == sorted(r["id"] for r in rows)
    assert ledgers[0] == ledgers[1]
    expected = {r["id"]: r["id"].split("~")[0] for r in rows if "~" in r["id"]}
    expected["blank-2"] = "blank-1"  # both are empty once normalised; keep: first
    gold_text = {r["id"]: normalise(r["text"], Normalisation()) for r in rows[:-22]}
    for r in rows[-22:-2]:  # a jusText extraction equal to its gold page up to case, punctuation and spaces
        if normalise(r["text"], Normalisation()) == gold_text.get(r["id"].removesuffix("-justext")):
            expected[r["id"]] = r["id"].removesuffix("-justext")
    assert ledgers[0] == expected
    stats = json.loads((tmp_path / "out3" / "work" / "exact_dedup" / "dedup_stats.json").read_text())
    assert stats["duplicates_removed"] == len(expected) and stats["documents"] == len(rows)
    sizes = Counter(n + 1 for n in Counter(expected.values()).values())
    assert stats["cluster_size_histogram"] == {str(k): v for k, v in sorted(sizes.items())}
    assert stats["clusters"] == len(set(expected.values())) and 3 in sizes


def test_exact_keep_rules(tmp_path):
    docs = [
        document("d", "Hello, World! 2024", 0, quality_score=0.1),
        document("c", "hello world 1999   ", 1),
        document("b", "HELLO WORLD 7!!", 2, quality_score=0.5),
        document("a", "something else entirely", 3),
    ]
    ranks = [docs[:1], docs[1:]]
    assert run_in_process("exact_dedup", {}, ranks, tmp_path / "f") == {"c": "d", "b": "d"}
    assert run_in_process("exact_dedup", {"keep": "longest"}, ranks, tmp_path / "l") == {"d": "c", "b": "c"}
    by_score = {"keep": "highest_score", "score_column": "quality_score"}
    assert run_in_process("exact_dedup", by_score, ranks, tmp_path / "s") == {"d": "b", "c": "b"}
    docs[1].metadata["original"] = {"score": 4.5}  # a field of the corpus's record (FineWeb-Edu's score)
    docs[2].metadata["original"] = {"score": 2.0}
    by_field = {"keep": "highest_score", "score_column": "original.score"}
    assert run_in_process("exact_dedup", by_field, ranks, tmp_path / "o") == {"d": "c", "b": "c"}
