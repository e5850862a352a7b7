"""Build ``pipeline/data/samples/multilingual/readability-pages.jsonl``: the real non-English pages of the dev data.

Takes from ``../shared/data/web/mozilla-readability.jsonl`` (mozilla/readability's test pages, Apache-2.0; pages
© their publishers) every real page (not a lorem-ipsum fixture) whose language lid.176 finds is not English, with
its main text as readability's ``expected.html`` gives it. Rows keep the file's ``{id, text, url, source}``.

    python scripts/build_multilingual_sample.py
"""

from __future__ import annotations

import json

from pipeline.filters.language_filter import DEFAULT_MODEL
from pipeline.resources import data_path

SOURCE = "../shared/data/web/mozilla-readability.jsonl"


def main() -> None:
    import fasttext

    model = fasttext.load_model(str(DEFAULT_MODEL))
    out = data_path("samples", "multilingual", "readability-pages.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(SOURCE, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["source"] != "mozilla-readability" or len(row["text"]) < 200:
                continue
            labels, _ = model.predict(row["text"].replace("\n", " "))
            if labels[0] != "__label__en":
                rows.append({k: row[k] for k in ("id", "text", "url", "source")})
    with open(out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pages -> {out}")


if __name__ == "__main__":
    main()
