"""Tokenized output: Curate's training-token path against datatrove's ``MegatronDocumentTokenizer``.

Both write one Megatron-LM ``.bin`` + ``.idx`` of GPT-2 ids, each document followed by ``<|endoftext|>``, from the
same real web documents (every text in ../shared/data/web, repeated up to --docs), in this one process, one after
the other, from the same shipped ``data/tokenizers/gpt2/tokenizer.json``. Curate's timing covers its whole path:
``TokenCollect`` (ids and the per-document rows), the plan (no mixture, not shuffled, so the order is the
documents' order like datatrove's) and ``WriteShards`` (the ``.bin``/``.idx`` and the provenance sidecar). The two
``.bin`` files, and the two ``.idx`` files, must be byte-identical.

    python bench/bench_tokenize.py --docs 4000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common import REPO, real_texts, report, timed

sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()

    from datatrove.data import Document
    from datatrove.pipeline.tokens.megatron_tokenizer import MegatronDocumentTokenizer

    from pipeline.tokens.collect import TokenCollect
    from pipeline.tokens.config import TokensConfig
    from pipeline.tokens.encode import TokenEncoder
    from pipeline.tokens.output_plan import WORK, MixturePlan, WriteShards
    from pipeline.tokens.tokenizer import resolve_tokenizer

    texts = real_texts()
    texts = [texts[i % len(texts)] for i in range(args.docs)]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts):,} documents, {mb:,.1f} MB of real web text")
    tmp = Path(tempfile.mkdtemp(prefix="bench_tokenize_"))

    def docs():
        return iter(Document(text=t, id=str(i), metadata={"source": "web"}) for i, t in enumerate(texts))

    def run_datatrove() -> int:
        shutil.rmtree(tmp / "dt", ignore_errors=True)
        step = MegatronDocumentTokenizer(
            str(tmp / "dt"), tokenizer_name_or_path=resolve_tokenizer("gpt2").path, batch_size=args.batch_size
        )
        step.run(docs())
        return len(texts)

    def run_curate() -> int:
        shutil.rmtree(tmp / "curate", ignore_errors=True)
        out = str(tmp / "curate")
        cfg = TokensConfig(shuffle=False, batch_size=args.batch_size)
        encoder = TokenEncoder("gpt2")
        for _ in TokenCollect(encoder, f"{out}/{WORK}", [], "none", cfg.batch_size).run(docs()):
            pass
        list(MixturePlan(out, cfg, None, encoder).run())
        list(WriteShards(out, cfg, encoder.dtype.name, encoder.name).run())
        return len(texts)

    anchor = timed(run_datatrove)
    curate = timed(run_curate)
    report("GPT-2 tokenized Megatron output (docs/s)", "docs", "datatrove MegatronDocumentTokenizer", anchor, curate)
    dt_bin = (tmp / "dt" / "00000_tokens.bin").read_bytes()
    cu_bin = (tmp / "curate" / "tokens" / "part-00000.bin").read_bytes()
    dt_idx = (tmp / "dt" / "00000_tokens.idx").read_bytes()
    cu_idx = (tmp / "curate" / "tokens" / "part-00000.idx").read_bytes()
    print(f"  tokens: datatrove {len(dt_bin) // 2:,}, curate {len(cu_bin) // 2:,}; .bin identical: {dt_bin == cu_bin}")
    print(f"  .idx identical: {dt_idx == cu_idx}")
    assert dt_bin == cu_bin and dt_idx == cu_idx, "the two outputs differ"
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
