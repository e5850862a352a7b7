"""``minhash_dedup`` on real near-duplicates: precision and recall against exact Jaccard, determinism, keep rules."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pytest
from conftest import output_ids, read_rows, run_curate, write_jsonl, write_recipe
from dedup_helpers import cleaneval, controlled_edits, document, neardup_pairs, run_in_process

from pipeline.dedup.clusters import components, node_keys
from pipeline.dedup.lsh_buckets import JaccardCheck, RowSource, SignatureCheck, bucket_edges
from pipeline.dedup.minhash_dedup import MinHashDedupParams, order_key
from pipeline.dedup.minhash_signature import MinHasher, band_hashes
from pipeline.dedup.shingles import jaccard, text_shingle_hashes

THRESHOLD = 0.8


@pytest.fixture(scope="module")
def corpus():
    """CleanEval gold pages, jusText extractions of the same pages, and controlled edits of 40 gold pages."""
    gold, justext = cleaneval()
    docs = [{**g, "family": g["id"]} for g in gold] + [
        {**j, "family": j["id"].removesuffix("-justext")} for j in justext
    ]
    mid_sized = [g for g in gold if 300 <= len(g["text"].split()) <= 2500][:40]
    docs += controlled_edits(mid_sized)
    params = MinHashDedupParams(threshold=THRESHOLD)
    shingles = [text_shingle_hashes(d["text"], params.ngram, params.normalisation()) for d in docs]
    return docs, shingles, params


def detect(docs, shingles, params, verify: bool):
    """The stage's own pieces, in one rank: signatures, band keys, checked bucket pairs, components."""
    hasher = MinHasher(params.num_perm, params.seed)
    bands, rows = params.banding()
    sigs = np.stack([hasher.signature(s) for s in shingles])
    nodes = node_keys(0, np.arange(len(docs)))
    keys = band_hashes(sigs, bands, rows).reshape(-1)
    order = np.repeat(np.array([order_key("", d["id"]) for d in docs], dtype=np.uint64), bands)
    check = (
        JaccardCheck(lambda n: shingles[int(n)], THRESHOLD)
        if verify
        else SignatureCheck(RowSource(lambda r: sigs), THRESHOLD)
    )
    left, right, counts = bucket_edges(keys, order, np.repeat(nodes, bands), check)
    members, labels = components(left, right)
    component = dict(zip(members.tolist(), labels.tolist(), strict=True))
    return list(zip(left.tolist(), right.tolist(), strict=True)), component, counts


def truth_pairs(docs, shingles):
    """Every pair of documents from the same page, with its exact Jaccard on the same shingles."""
    families: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        families.setdefault(d["family"], []).append(i)
    return {(a, b): jaccard(shingles[a], shingles[b]) for ids in families.values() for a, b in combinations(ids, 2)}


@pytest.mark.parametrize("verify", [False, True])
def test_precision_and_recall_against_exact_jaccard(corpus, verify):
    docs, shingles, params = corpus
    edges, component, counts = detect(docs, shingles, params, verify)
    truth = truth_pairs(docs, shingles)
    high = [p for p, j in truth.items() if j >= 0.85]
    found = [p for p in high if p[0] in component and component.get(p[0]) == component.get(p[1])]
    recall = len(found) / len(high)
    edge_j = [jaccard(shingles[a], shingles[b]) for a, b in edges]
    precision = sum(j >= THRESHOLD for j in edge_j) / len(edge_j)
    print(
        f"verify={verify}: {len(docs)} docs, {len(high)} pairs >= 0.85, recall {recall:.4f}; "
        f"{len(edges)} reported pairs, precision {precision:.4f}; {counts}"
    )
    assert len(high) > 400  # real gold/jusText pairs and edits: enough to measure
    assert recall >= 0.95
    assert precision == 1.0 if verify else precision >= 0.95
    # the corpus really tests the threshold: many same-page pairs sit just below it
    assert sum(0.6 <= j < THRESHOLD for j in truth.values()) > 50


def test_shingles_agree_with_the_reference_jaccard():
    """Our normalised shingles give the pairs file's Jaccard (plain \\w+ words) up to digits and diacritics."""
    gold, justext = cleaneval()
    texts = {d["id"]: d["text"] for d in gold + justext}
    norm = MinHashDedupParams().normalisation()
    diffs = []
    for row in neardup_pairs()[:150]:
        a, b = (text_shingle_hashes(texts[row[k]], 5, norm) for k in ("id_a", "id_b"))
        diffs.append(abs(jaccard(a, b) - row["jaccard"]))
    assert np.median(diffs) < 0.01 and np.mean(np.array(diffs) < 0.05) > 0.9


def run_recipe(tmp_path, corpus_file, tasks: int, workers: int, stage: dict):
    out = tmp_path / f"out{tasks}"
    recipe = write_recipe(
        tmp_path / f"r{tasks}.yaml",
        {
            "name": "dedup",
            "sources": [{"name": "web", "format": "jsonl", "path": str(corpus_file)}],
            "stages": [stage],
            "output": {"path": str(out)},
            "executor": {"tasks": tasks, "workers": workers},
        },
    )
    assert run_curate("run", recipe) == 0
    return out


def test_tasks_1_and_4_remove_the_same_ids(tmp_path):
    gold, justext = cleaneval()
    by_id = {j["id"].removesuffix("-justext"): j for j in justext}
    rows = []
    for g in gold[:70]:
        rows.append({"id": g["id"], "text": g["text"]})
        if g["id"] in by_id:
            rows.append({"id": by_id[g["id"]]["id"], "text": by_id[g["id"]]["text"]})
    rows += [{"id": e["id"], "text": e["text"]} for e in controlled_edits(gold[:8])]
    rows.insert(3, {"id": "empty", "text": " \n "})
    corpus_file = write_jsonl(tmp_path / "corpus.jsonl", rows)
    stage = {"minhash_dedup": {"threshold": 0.8}}
    one = run_recipe(tmp_path, corpus_file, 1, 1, stage)
    four = run_recipe(tmp_path, corpus_file, 4, 2, stage)
    ledger1 = {r["id"]: r["duplicate_of"] for r in read_rows(one / "removed" / "minhash_dedup")}
    ledger4 = {r["id"]: r["duplicate_of"] for r in read_rows(four / "removed" / "minhash_dedup")}
    assert len(ledger1) > 50 and ledger1 == ledger4
    kept, removed = output_ids(four)
    assert sorted(kept + removed) == sorted(r["id"] for r in rows) and "empty" in kept
    # keep: first -> every survivor is kept and comes before what it replaces in read order
    position = {r["id"]: i for i, r in enumerate(rows)}
    assert all(dup in kept and position[dup] < position[rid] for rid, dup in ledger4.items())
    assert {r["reason"] for r in read_rows(four / "removed" / "minhash_dedup", ["reason"])} == {"near_duplicate"}
    stats = json.loads((four / "work" / "minhash_dedup" / "dedup_stats.json").read_text())
    assert stats["duplicates_removed"] == len(ledger4) and stats["documents"] == len(rows)
    assert sum(int(k) * v for k, v in stats["cluster_size_histogram"].items()) == len(ledger4) + stats["clusters"]
    counters = json.loads((four / "stats.json").read_text())["stages"][0]["counters"]
    assert counters["clusters"] == stats["clusters"]


def test_keep_rules_and_ties(tmp_path):
    gold, _ = cleaneval()
    base = gold[5]["text"]
    longer = base + " And one more closing sentence for this page."
    docs = [
        document("c", base, 0, quality_score=0.2, hf_score=0.95),
        document("b", longer, 1),  # no score: counts as minus infinity
        document("a", base, 2, quality_score=0.9, hf_score=0.1),
        document("z", gold[6]["text"], 3),
    ]
    ranks = [docs[:2], docs[2:]]
    assert run_in_process("minhash_dedup", {"keep": "first"}, ranks, tmp_path / "first") == {"b": "c", "a": "c"}
    assert run_in_process("minhash_dedup", {"keep": "longest"}, ranks, tmp_path / "long") == {"c": "b", "a": "b"}
    by_quality = {"keep": "highest_score", "score_column": "quality_score"}
    assert run_in_process("minhash_dedup", by_quality, ranks, tmp_path / "score") == {"c": "a", "b": "a"}
    by_hf = {"keep": "highest_score", "score_column": "hf_score"}  # the column the recipe names is the one used
    assert run_in_process("minhash_dedup", by_hf, ranks, tmp_path / "hf") == {"a": "c", "b": "c"}
    # equal length, no scores: the smallest id survives
    same = [document("y", base, 0), document("x", base, 1)]
    assert run_in_process("minhash_dedup", {"keep": "longest"}, [same], tmp_path / "tie") == {"y": "x"}


def test_bad_input_does_not_crash(tmp_path):
    gold, _ = cleaneval()
    docs = [
        document("empty", "", 0),
        document("space", " \n\t ", 1),
        document("cjk", "日本語のテキストです。東京は大きい都市です。" * 20, 2),
        document("cjk2", "日本語のテキストです。東京は大きい都市です。" * 20 + "!", 3),
        document("junk", "\x00\x01\ufffd binary \x7f" * 50, 4),
        document("long", " ".join(gold[0]["text"].split()) * 40, 5),  # one long line
        document("short", "hello", 6),
        document("short2", "Hello!", 7),
    ]
    removed = run_in_process("minhash_dedup", {"verify_jaccard": True}, [docs], tmp_path / "bad")
    assert removed == {"cjk2": "cjk", "short2": "short"}


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="both bands and rows"):
        MinHashDedupParams(bands=10)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        MinHashDedupParams(num_perm=64, bands=10, rows=10)
    assert MinHashDedupParams(num_perm=64, bands=8, rows=8).banding() == (8, 8)
    assert MinHashDedupParams().banding() == (23, 11)


def test_same_removals_for_any_split_and_shard_count(tmp_path):
    """Exact-Jaccard mode and the longest-survivor rule, split over 1 or 3 ranks and 1 or 5 bucket shards."""
    gold, justext = cleaneval()
    rows = [(g["id"], g["text"]) for g in gold[:25]] + [(j["id"], j["text"]) for j in justext[:25]]
    rows += [(e["id"], e["text"]) for e in controlled_edits(gold[:4])]
    docs = [document(i, t, n) for n, (i, t) in enumerate(rows)]
    params = {"verify_jaccard": True, "keep": "longest"}
    one = run_in_process("minhash_dedup", {**params, "shards": 1}, [docs], tmp_path / "one")
    three = run_in_process("minhash_dedup", {**params, "shards": 5}, [docs[:7], docs[7:40], docs[40:]], tmp_path / "3")
    assert len(one) > 20 and one == three
    length = {d.id: len(d.text) for d in docs}
    assert all(length[dup] >= length[rid] for rid, dup in one.items())


@pytest.mark.parametrize("seed", range(6))
def test_components_equal_scipy_connected_components(seed):
    """The union-find's labels against SciPy's ``connected_components`` (the smallest node of each component), on
    random graphs from sparse to one giant component, with self-loops, repeated edges and long chains."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    m = int(rng.integers(1, 3 * n)) if seed % 3 else n - 1
    keys = np.sort(rng.choice(2**40, size=n, replace=False).astype(np.uint64)) << np.uint64(3)
    if seed % 3:
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    else:  # a chain through a random order of the nodes: the deepest trees
        chain = rng.permutation(n)
        a, b = chain[:-1], chain[1:]
    nodes, labels = components(keys[a], keys[b])
    index, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    graph = coo_matrix((np.ones(len(a)), (inverse[: len(a)], inverse[len(a) :])), shape=(len(index), len(index)))
    _, comp = connected_components(graph, directed=False)
    expected = {}
    for node, c in zip(keys[index].tolist(), comp.tolist(), strict=True):
        expected[c] = min(expected.get(c, node), node)
    assert nodes.tolist() == keys[index].tolist()
    assert labels.tolist() == [expected[c] for c in comp.tolist()]
