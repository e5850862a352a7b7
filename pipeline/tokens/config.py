"""The recipe's ``output.tokens`` and ``mixture`` sections: training tokens, and how many of them from each source.

``output.tokens`` asks for the kept documents as training shards (Megatron-LM's ``.bin`` + ``.idx`` or datatrove's
``.ds``), each with a Parquet provenance sidecar. ``mixture`` sets a token target and a share per source; without
it every kept document appears once. Both are checked when the recipe is loaded, so a mistake names its key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, field_validator, model_validator

from pipeline.recipe_paths import RecipePathOrName

SHARE_TOLERANCE = 1e-6


def _amount(value: object) -> int:
    from pipeline.report.chinchilla import parse_amount  # noqa: PLC0415 - a small pure module

    if isinstance(value, bool):
        raise ValueError("expected a number of tokens like 50B, 2.5M or 1000000")
    return int(round(parse_amount(value)))  # type: ignore[arg-type]


TokenAmount = Annotated[int, BeforeValidator(_amount)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokensConfig(_Strict):
    """``output.tokens``: write the kept (and mixed) documents as tokenized training shards under ``OUTPUT/tokens/``."""

    tokenizer: RecipePathOrName = "gpt2"  # 'gpt2' (shipped), a tokenizer.json or its folder, or a hub id (online)
    format: Literal["megatron", "datatrove"] = "megatron"
    shuffle: bool = True  # one global, seeded permutation of every sequence (repeated copies spread apart)
    seed: int = 0
    eos_token: str | None = None  # default: the tokenizer's own (<|endoftext|> for GPT-2)
    shard_max_tokens: TokenAmount = Field(default=1_000_000_000, gt=0)  # tokens per shard at most (whole sequences)
    batch_size: PositiveInt = 512

    @field_validator("tokenizer")
    @classmethod
    def _known(cls, value: str) -> str:
        from pipeline.tokens.tokenizer import TokenizerError, resolve_tokenizer  # noqa: PLC0415

        try:
            resolve_tokenizer(value)
        except TokenizerError as e:
            raise ValueError(str(e)) from e
        return value


class MixtureSource(_Strict):
    share: float = Field(ge=0.0, le=1.0)  # of target_tokens
    max_epochs: PositiveInt = 1  # no document of this source appears more often than this


class MixtureConfig(_Strict):
    """``mixture``: how many training tokens, and which share of them each source gives."""

    target_tokens: TokenAmount = Field(gt=0)
    seed: int = 0
    # which documents are repeated first (and kept first when a source is subsampled): 'none' (uniform, seeded),
    # 'cluster_size' (documents with more duplicates removed by a dedup stage, FineWeb-2's rehydration signal),
    # or any numeric column of the kept output ('quality_score', 'int_score', ...): higher first
    score: str = "none"
    cluster_weights: dict[int, float] | None = None  # cluster_size -> score, FineWeb-2's step table {1: 1, 2: 3, ...}
    sources: dict[str, MixtureSource] = Field(min_length=1)

    @model_validator(mode="after")
    def _shares(self) -> MixtureConfig:
        total = sum(s.share for s in self.sources.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"mixture.sources: the shares add up to {total:g}, expected 1")
        if self.cluster_weights is not None and self.score != "cluster_size":
            raise ValueError("mixture.cluster_weights needs score: cluster_size")
        return self
