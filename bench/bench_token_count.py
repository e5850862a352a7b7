"""Token counting: Curate's ``token_count`` stage against datatrove's ``TokensCounter``, and OpenAI's tiktoken.

All three count GPT-2 tokens of the same real web documents (every text in ../shared/data/web, repeated up to
--docs), in this one process, one after the other; the token totals must be equal. Curate and datatrove load the
same ``data/tokenizers/gpt2/tokenizer.json``; tiktoken's ``gpt2`` encoding is built from OpenAI's two files.

    python bench/bench_token_count.py --docs 2000
"""

from __future__ import annotations

import argparse
import sys

from common import REPO, real_texts, report, timed

sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args()

    import tiktoken
    import tiktoken.load
    import tiktoken_ext.openai_public as openai_public
    from datatrove.data import Document
    from datatrove.pipeline.tokens.counter import TokensCounter

    from pipeline.tokens.gpt2_build import openai_files
    from pipeline.tokens.token_count import TokenCounter, TokenCountParams
    from pipeline.tokens.tokenizer import resolve_tokenizer

    texts = real_texts()
    texts = [texts[i % len(texts)] for i in range(args.docs)]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts):,} documents, {mb:,.1f} MB of real web text")

    def docs():
        return iter(Document(text=t, id=str(i), metadata={"source": "web"}) for i, t in enumerate(texts))

    totals = {}

    def run_datatrove() -> int:
        step = TokensCounter(resolve_tokenizer("gpt2").path, count_eos_token=False, batch_size=args.batch_size)
        totals["datatrove"] = sum(d.metadata["token_count"] for d in step.run(docs()))
        return len(texts)

    def run_curate() -> int:
        step = TokenCounter(TokenCountParams(batch_size=args.batch_size))
        totals["curate"] = sum(d.metadata["token_count"] for d in step.run(docs()))
        return len(texts)

    encoder_json, vocab_bpe = openai_files()
    ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(str(vocab_bpe), str(encoder_json))
    enc = tiktoken.Encoding("gpt2", pat_str=openai_public.r50k_pat_str, mergeable_ranks=ranks, special_tokens={})

    def run_tiktoken() -> int:
        totals["tiktoken"] = sum(len(ids) for ids in enc.encode_ordinary_batch(texts))
        return len(texts)

    anchor = timed(run_datatrove)
    curate = timed(run_curate)
    tik = timed(run_tiktoken)
    report("GPT-2 token counting (docs/s)", "docs", "datatrove TokensCounter", anchor, curate)
    report("GPT-2 token counting (docs/s)", "docs", "tiktoken encode_ordinary_batch", tik, curate)
    print(f"  tokens: {totals}")
    assert len(set(totals.values())) == 1, "the three counts differ"


if __name__ == "__main__":
    main()
