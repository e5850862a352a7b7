"""Rebuild ``data/samples/`` from the real documents in ``../shared/data`` (see data/ATTRIBUTION.md).

Each sample is real text laid out in a corpus's real schema (see ../shared/data/README.md for the schemas and
their evidence). Fields a corpus computes with models we do not have (FineWeb-Edu's ``score``, DCLM's classifier
probability) are null rather than invented. Run from the repository root:

    python scripts/build_samples.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import re
import shutil
import uuid
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

OUT = Path(__file__).resolve().parents[1] / "pipeline" / "data" / "samples"

FINEWEB_EDU_SCHEMA = pa.schema(
    [
        ("text", pa.string()),
        ("id", pa.string()),
        ("dump", pa.string()),
        ("url", pa.string()),
        ("date", pa.string()),
        ("file_path", pa.string()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("token_count", pa.int64()),
        ("score", pa.float64()),
        ("int_score", pa.int64()),
    ]
)


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build_fineweb_edu(shared: Path) -> int:
    """OLMo's C4 fixtures (C4 is CC-MAIN-2019-18 text) in FineWeb-Edu's 11-column Parquet schema."""
    rows = []
    for rec in read_jsonl(shared / "web/olmo-c4.jsonl"):
        key = rec.get("url") or rec["id"]
        rows.append(
            {
                "text": rec["text"],
                "id": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}>",
                "dump": "CC-MAIN-2019-18",
                "url": rec.get("url"),
                "date": None,
                "file_path": None,
                "language": "en",
                "language_score": None,
                "token_count": None,
                "score": None,
                "int_score": None,
            }
        )
    out = OUT / "fineweb-edu"
    out.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=FINEWEB_EDU_SCHEMA)
    half = len(rows) // 2
    pq.write_table(table.slice(0, half), out / "000_00000.parquet", compression="zstd")
    pq.write_table(table.slice(half), out / "000_00001.parquet", compression="zstd")
    return len(rows)


def _warc_records(path: Path):
    from warcio.archiveiterator import ArchiveIterator

    warcinfo = None
    with open(path, "rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type == "warcinfo":
                warcinfo = record.content_stream().read().decode("utf-8", "replace")
                continue
            if record.rec_type != "response":
                continue
            ctype = record.http_headers.get_header("Content-Type", "") if record.http_headers else ""
            if "html" not in ctype.lower():
                continue
            yield warcinfo, dict(record.rec_headers.headers), record.content_stream().read()


def build_dclm(shared: Path) -> int:
    """Real Common Crawl / wget WARC responses, extracted with resiliparse as DCLM did, in DCLM's jsonl.zst schema."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    rows = []
    warcs = [
        shared / "warc/resiliparse/warcfile.warc.gz",
        shared / "warc/cc-whirlwind/whirlwind.warc.gz",
        shared / "warc/dolma/sample-0000.warc.gz",
        shared / "warc/dolma/sample-0001.warc.gz",
    ]
    for warc in warcs:
        for warcinfo, headers, body in _warc_records(warc):
            html = bytes_to_str(body, detect_encoding(body))
            text = extract_plain_text(html, main_content=True, alt_texts=False, links=False)
            if len(text.split()) < 20:
                continue
            metadata = {
                "Content-Length": headers.get("Content-Length"),
                "Content-Type": headers.get("Content-Type"),
                "WARC-Block-Digest": headers.get("WARC-Block-Digest"),
                "WARC-Concurrent-To": headers.get("WARC-Concurrent-To"),
                "WARC-Date": headers.get("WARC-Date"),
                "WARC-IP-Address": None,  # withheld: real server addresses are not redistributed here
                "WARC-Identified-Payload-Type": headers.get("WARC-Identified-Payload-Type"),
                "WARC-Payload-Digest": headers.get("WARC-Payload-Digest"),
                "WARC-Record-ID": headers.get("WARC-Record-ID"),
                "WARC-Target-URI": headers.get("WARC-Target-URI"),
                "WARC-Type": headers.get("WARC-Type"),
                "WARC-Warcinfo-ID": headers.get("WARC-Warcinfo-ID"),
                "WARC-Truncated": headers.get("WARC-Truncated"),
            }
            rows.append(
                {
                    "text": text,
                    "url": headers.get("WARC-Target-URI"),
                    "warcinfo": warcinfo,
                    "metadata": metadata,
                    "language_id_whole_page_fasttext": None,
                    "previous_word_count": len(text.split()),
                    "bff_contained_ngram_count_before_dedupe": None,
                    "fasttext_openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train_prob": None,
                }
            )
    out = OUT / "dclm/global-shard_01_of_10/local-shard_0_of_10"
    out.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    (out / "shard_00000000_processed.jsonl.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(payload))
    return len(rows)


def build_redpajama_v1(shared: Path) -> int:
    """RedPajama-V1 rows: the arXiv file as is, C4 rows with their ``meta``, and the CC subset's own layout."""
    out = OUT / "redpajama-v1"
    out.mkdir(parents=True, exist_ok=True)
    dj = shared / "web/data-juicer-redpajama"
    shutil.copyfile(dj / "arxiv.jsonl", out / "arxiv_sample.jsonl")
    n = len(read_jsonl(dj / "arxiv.jsonl"))
    c4 = [
        {"text": r["text"], "meta": {"timestamp": None, "url": None, "language": "en", "source": "c4"}}
        for r in read_jsonl(dj / "redpajama-c4-refined.jsonl")
    ]
    cc_file = "redpajama-cc-2023-06-refined.jsonl"
    cc = [
        {
            "text": r["text"],
            "source": f"cc/{cc_file}/line{i}",
            "pred_label": None,
            "pred_label_prob": None,
            "wiki_prob": None,
        }
        for i, r in enumerate(read_jsonl(dj / cc_file))
    ]
    for name, rows in (("c4_sample.jsonl", c4), ("cc_2023-06_sample.jsonl", cc)):
        with open(out / name, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return n + len(c4) + len(cc)


WORD = re.compile(r"\w+", re.UNICODE)


def rpv2_signals(text: str, ccnet: dict) -> dict:
    """A subset of RPv2's quality signals: the CCNet ones (real values) and natural-language ones recomputed
    from their definitions in RedPajama-Data (app/src/core/quality_signals/natural_language.py)."""
    n = len(text)
    words = text.split()
    lines = text.split("\n")
    tokens = [w.lower() for w in WORD.findall(text)]
    counts = Counter(tokens)
    total = sum(counts.values())
    entropy = -sum(c / total * math.log(c / total) for c in counts.values()) if total else 0.0

    def doc(v):
        return [[0, n, v]]

    offsets, pos = [], 0
    for line in lines:
        offsets.append((pos, pos + len(line)))
        pos += len(line) + 1
    return {
        "ccnet_length": doc(ccnet.get("length")),
        "ccnet_original_length": doc(ccnet.get("original_length")),
        "ccnet_nlines": doc(ccnet.get("nlines")),
        "ccnet_original_nlines": doc(ccnet.get("original_nlines")),
        "ccnet_language_score": doc(ccnet.get("language_score")),
        "ccnet_perplexity": doc(ccnet.get("perplexity")),
        "ccnet_bucket": doc({"head": 0.0, "middle": 1.0, "tail": 2.0}.get(ccnet.get("bucket"))),
        "rps_doc_word_count": doc(float(len(words))),
        "rps_doc_mean_word_length": doc(round(sum(map(len, words)) / len(words), 4) if words else None),
        "rps_doc_frac_unique_words": doc(round(len(set(words)) / len(words), 4) if words else None),
        "rps_doc_unigram_entropy": doc(round(entropy, 4)),
        "rps_doc_frac_lines_end_with_ellipsis": doc(
            round(sum(line.rstrip().endswith(("...", "…")) for line in lines) / len(lines), 4)
        ),
        "rps_doc_curly_bracket": doc(round((text.count("{") + text.count("}")) / n, 6) if n else 0.0),
        "rps_lines_num_words": [[a, b, float(len(text[a:b].split()))] for a, b in offsets],
        "rps_lines_ending_with_terminal_punctution_mark": [
            [a, b, float(text[a:b].rstrip().endswith((".", "!", "?", '"')))] for a, b in offsets
        ],
    }


def build_redpajama_v2(shared: Path) -> int:
    """The dolma CCNet files mapped 1:1 onto RPv2 ``documents`` rows, with a ``quality_signals`` file beside."""
    snapshot, bucket_file = "2020-16", "en_head"
    n = 0
    for name, shard in (("cc_en_head-0091.jsonl", "0000"), ("cc_en_head-0174.jsonl", "0001")):
        docs, signals = [], []
        for idx, rec in enumerate(read_jsonl(shared / "web/dolma-ccnet" / name)):
            meta = dict(rec["metadata"])
            meta.pop("provenance", None)
            row = {
                "raw_content": rec["text"],
                **{
                    k: meta.get(k)
                    for k in (
                        "url",
                        "title",
                        "nlines",
                        "original_nlines",
                        "line_ids",
                        "source_domain",
                        "length",
                        "original_length",
                        "language",
                        "language_score",
                        "perplexity",
                        "bucket",
                        "digest",
                        "cc_segment",
                        "date_download",
                    )
                },
            }
            doc_id = f"{snapshot}/{shard}/{bucket_file}.json.gz/{idx}"
            docs.append(row)
            signals.append(
                {
                    "id": doc_id,
                    "id_int": int.from_bytes(__import__("hashlib").sha1(doc_id.encode()).digest()[:8], "big"),
                    "metadata": {
                        "cc_net_source": f"{snapshot}/{shard}/{bucket_file}.json.gz",
                        "cc_segment": meta.get("cc_segment"),
                        "shard_id": shard,
                        "url": meta.get("url"),
                        "source_domain": meta.get("source_domain"),
                        "language": meta.get("language"),
                        "snapshot_id": snapshot,
                    },
                    "quality_signals": rpv2_signals(rec["text"], meta),
                }
            )
        for tree, suffix, rows in (("documents", ".json.gz", docs), ("quality_signals", ".signals.json.gz", signals)):
            path = OUT / "redpajama-v2" / tree / snapshot / shard / f"{bucket_file}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
                for r in rows:
                    gz.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
            path.write_bytes(buf.getvalue())
        n += len(docs)
    return n


def build_jsonl(shared: Path) -> int:
    """Generic JSON lines: the three real C4 documents of Hugging Face datasets' dummy data, as is."""
    out = OUT / "jsonl"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shared / "web/hf-datasets-c4-dummy.jsonl", out / "c4-dummy.jsonl")
    return len(read_jsonl(shared / "web/hf-datasets-c4-dummy.jsonl"))


WARC_FILES = (
    "cc-whirlwind/whirlwind.warc.gz",
    "cc-whirlwind/whirlwind.warc.wet.gz",
    "dolma/sample-0000.warc.gz",
    "dolma/sample-0001.warc.gz",
    "resiliparse/warcfile.warc.gz",
)


def build_warc(shared: Path) -> int:
    """Real WARC and WET files, byte for byte (the fineweb_from_warc recipe's input): responses + conversions."""
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    for rel in WARC_FILES:
        target = OUT / "warc" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / "warc" / rel, target)
        kind = "conversion" if rel.endswith(".wet.gz") else "response"
        with open(target, "rb") as f:
            n += sum(1 for rec in ArchiveIterator(f) if rec.rec_type == kind)
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    args = parser.parse_args()
    shared = Path(args.shared)
    if OUT.exists():
        shutil.rmtree(OUT)
    counts = {
        "fineweb-edu": build_fineweb_edu(shared),
        "dclm": build_dclm(shared),
        "redpajama-v1": build_redpajama_v1(shared),
        "redpajama-v2": build_redpajama_v2(shared),
        "jsonl": build_jsonl(shared),
        "warc": build_warc(shared),
    }
    print(json.dumps(counts, indent=2), f"\ntotal {sum(counts.values())}")


if __name__ == "__main__":
    main()
