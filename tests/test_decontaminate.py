"""``decontaminate``: evaluation items planted in real documents, verbatim and lightly edited, are removed with the
benchmark named; untouched real documents are kept.

The expected decisions come from a reference written here from lm-evaluation-harness's documented procedure
(``Janitor.register_contaminant_python``: ASCII lower case, ``string.punctuation`` deleted, split on whitespace,
13-grams joined as strings in a Python set), not from Curate's hashed index.
"""

from __future__ import annotations

import gzip
import json
import re
import string

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import load_web_corpus, read_rows, run_curate, write_jsonl, write_recipe

from pipeline.resources import data_path

HUMANEVAL = data_path("eval", "humaneval", "HumanEval.jsonl.gz")
N = 13


def reference_ngrams(text: str, n: int = N) -> set[str]:
    table = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, string.punctuation)
    words = text.translate(table).split()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def humaneval_items() -> list[dict]:
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def edit_lightly(text: str) -> str:
    """Upper case, punctuation changed or dropped, whitespace reflowed: what the normalisation must absorb."""
    text = text.upper().replace(",", " , ").replace(":", ";").replace("(", "").replace(")", "")
    return re.sub(r"\s+", lambda m: "  \n\t " if len(m.group(0)) > 1 else " ", text)


def insert_middle(doc: str, snippet: str) -> str:
    words = doc.split(" ")
    half = len(words) // 2
    return " ".join(words[:half]) + "\n\n" + snippet + "\n\n" + " ".join(words[half:])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("decont")
    corpus = [(i, t) for i, t in load_web_corpus() if len(t.split()) >= 150]
    items = humaneval_items()
    # a Parquet benchmark and a plain-text one made of real sentences from pages that are not in the corpus
    held_out = corpus[60:70]
    corpus = corpus[:40]
    sentences = [s.strip() for _, t in held_out for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 20]
    pq_items = sentences[:6]
    txt_items = sentences[6:12]
    pq.write_table(pa.table({"qid": [f"q{i}" for i in range(6)], "question": pq_items}), tmp / "quiz.parquet")
    (tmp / "lines.txt").write_text("\n".join(txt_items) + "\n", encoding="utf-8")

    planted = {  # corpus index -> (benchmark, item label, snippet)
        0: ("humaneval", "HumanEval/0", items[0]["prompt"]),
        1: ("humaneval", "HumanEval/5", edit_lightly(items[5]["prompt"])),
        2: ("humaneval", "HumanEval/10", edit_lightly(items[10]["canonical_solution"])),
        3: ("quiz", "q2", pq_items[2].lower().replace(",", "")),
        4: ("lines", "lines.txt:3", "  ".join(txt_items[2].upper().split())),
    }
    near_miss = 5  # twelve words of an item: shorter than the n-gram, must stay
    records = []
    for k, (_, text) in enumerate(corpus):
        if k in planted:
            text = insert_middle(text, planted[k][2])
        elif k == near_miss:
            text = insert_middle(text, " ".join(pq_items[0].split()[:12]))
        records.append({"id": f"doc-{k}", "text": text})
    src = tmp / "in"
    src.mkdir()
    for part in range(2):  # two files: both tasks read documents and check them against the one index
        rows = records[part::2]
        write_jsonl(src / f"docs-{part}.jsonl", rows)
    evals = [
        {
            "name": "humaneval",
            "path": str(HUMANEVAL),
            "fields": ["prompt", "canonical_solution"],
            "id_field": "task_id",
        },
        {"name": "quiz", "path": str(tmp / "quiz.parquet"), "fields": ["question"], "id_field": "qid"},
        {"name": "lines", "path": str(tmp / "lines.txt")},
    ]
    recipe = {
        "name": "decont",
        "sources": [{"name": "web", "format": "jsonl", "path": str(src)}],
        "stages": [{"decontaminate": {"eval": evals}}],
        "output": {"path": str(tmp / "out")},
        "executor": {"kind": "local", "tasks": 2},
    }
    assert run_curate("run", write_recipe(tmp / "r.yaml", recipe)) == 0
    index = set()
    for item in items:
        index |= reference_ngrams(item["prompt"]) | reference_ngrams(item["canonical_solution"])
    for s in pq_items + txt_items:
        index |= reference_ngrams(s)
    expected = {r["id"] for r in records if reference_ngrams(r["text"]) & index}
    return {"out": tmp / "out", "records": records, "planted": planted, "expected": expected}


def test_planted_items_are_removed_with_their_benchmark(run):
    out = run["out"]
    removed = {r["id"]: r for r in read_rows(out / "removed" / "decontaminate")}
    assert set(removed) == {f"doc-{k}" for k in run["planted"]}
    for k, (benchmark, label, _) in run["planted"].items():
        row = removed[f"doc-{k}"]
        assert row["reason"] == f"contaminated:{benchmark}"
        assert f"{benchmark}/{label}" in row["decontaminate.items"]
        assert len(row["decontaminate.ngram"].split()) == N


def test_untouched_documents_are_kept_and_match_the_reference(run):
    kept = {r["id"] for r in read_rows(run["out"] / "data", ["id"])}
    assert kept == {r["id"] for r in run["records"]} - {f"doc-{k}" for k in run["planted"]}
    assert "doc-5" in kept  # twelve words of an item are not an n-gram
    assert run["expected"] == {f"doc-{k}" for k in run["planted"]}  # lm-eval's procedure decides the same


def test_the_index_is_built_once_and_read_by_every_task(run):
    logs = run["out"] / "logs"
    assert [p.name for p in (logs / "00_00_decontaminate_index" / "completions").iterdir()] == ["00000"]
    stats = json.loads((run["out"] / "stats.json").read_text())
    (stage,) = [s for s in stats["stages"] if s["stage"] == "decontaminate"]
    assert stage["in"] == len(run["records"]) and stage["dropped"] == len(run["planted"])
    per_task = [json.loads(p.read_text()) for p in sorted((logs / "00_documents" / "stats").glob("*.json"))]
    checked = [next(s["stats"]["total"] for s in task if s["name"] == "decontaminate") for task in per_task]
    assert checked == [20, 20]  # 40 documents in two files, one per task


def test_report_has_a_contamination_table(run):
    report = json.loads((run["out"] / "report" / "report.json").read_text())
    table = report["contamination"]["decontaminate"]["benchmarks"]
    assert table["humaneval"]["items"] == 164
    assert table["humaneval"]["items_found"] == 3
    assert table["humaneval"]["documents_removed"] == 3
    assert table["quiz"]["items"] == 6 and table["quiz"]["items_found"] == 1
    assert table["lines"]["documents_removed"] == 1
    dropped = sum(r["tokens"] for r in report["drop_reasons"] if r["stage"] == "decontaminate")
    assert sum(b["tokens_removed"] for b in table.values()) == dropped > 0
    assert "Benchmark contamination" in (run["out"] / "report" / "report.md").read_text()


def test_a_missing_field_names_the_fields_found(tmp_path):
    from pipeline.decont.index import EvalSpec, build_index

    with pytest.raises(ValueError, match="fields found: canonical_solution, entry_point, prompt, task_id, test"):
        build_index([EvalSpec("humaneval", str(HUMANEVAL), ("question",))], 13)


def test_recipe_mistakes_are_named(tmp_path):
    from pipeline.recipe import RecipeError, parse_recipe

    base = {"name": "x", "sources": [{"name": "web", "format": "jsonl", "path": "a.jsonl"}]}
    missing = {"decontaminate": {"eval": [{"name": "q", "path": str(tmp_path / "nope.jsonl")}]}}
    with pytest.raises(RecipeError, match=r"stages\[0\]\.decontaminate\.eval\[0\]\.path: no such file or folder"):
        parse_recipe({**base, "stages": [missing]})
    twice = {"decontaminate": {"eval": [{"name": "q", "path": str(HUMANEVAL)}, {"name": "q", "path": str(HUMANEVAL)}]}}
    with pytest.raises(RecipeError, match="names must be unique; repeated: q"):
        parse_recipe({**base, "stages": [twice]})


def test_a_run_with_a_wrong_field_stops_with_the_message(tmp_path, capsys):
    src = tmp_path / "docs.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "some text " * 20}) + "\n")
    recipe = {
        "name": "x",
        "sources": [{"name": "web", "format": "jsonl", "path": str(src)}],
        "stages": [{"decontaminate": {"eval": [{"name": "he", "path": str(HUMANEVAL), "fields": ["question"]}]}}],
        "output": {"path": str(tmp_path / "out")},
    }
    assert run_curate("run", write_recipe(tmp_path / "r.yaml", recipe)) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "decontaminate: evaluation set 'he': no record of" in err and "fields found: canonical_solution" in err
