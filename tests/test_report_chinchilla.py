"""Chinchilla budgets: the paper's own compute-optimal point, amounts as people write them, over-training epochs."""

from __future__ import annotations

import pytest

from pipeline.report.chinchilla import budgets, human_amount, parse_amount, parse_amounts


def test_chinchilla_itself_is_compute_optimal():
    """Hoffmann et al. 2022 trained Chinchilla, 70B parameters, on 1.4T tokens: exactly 20 tokens per parameter."""
    table = budgets(int(1.4e12), model_sizes=[70e9, 7e9], token_budgets=[1.4e12, 14e12])
    by_label = {m["label"]: m for m in table["models"]}
    assert by_label["70B"]["corpus_multiple"] == pytest.approx(1.0)
    assert by_label["7B"]["corpus_multiple"] == pytest.approx(10.0)
    assert table["optimal_parameters"] == pytest.approx(70e9) and table["optimal_parameters_label"] == "70B"
    assert [b["epochs"] for b in table["budgets"]] == pytest.approx([1.0, 10.0])
    assert [b["verdict"] for b in table["budgets"]] == ["fresh", "diminishing"]


def test_defaults_are_the_issues_model_sizes_and_budgets():
    table = budgets(10**9)
    assert [m["label"] for m in table["models"]] == ["0.1B", "0.25B", "0.5B", "1B", "1.5B", "3B", "5B"]
    assert [b["label"] for b in table["budgets"]] == ["1T", "1.5T", "3T"]
    assert table["models"][0]["optimal_tokens"] == 2e9 and table["models"][0]["corpus_multiple"] == 0.5
    assert table["budgets"][0]["epochs"] == 1000 and table["budgets"][0]["verdict"] == "vanishing returns"
    assert budgets(0)["budgets"][0]["epochs"] is None


def test_amounts():
    assert parse_amounts("0.1B, 250M,1.5T,3e12, 500") == [1e8, 2.5e8, 1.5e12, 3e12, 500]
    assert [human_amount(x) for x in (1e8, 2.5e8, 1.5e9, 1.5e12, 3.2e6)] == ["0.1B", "0.25B", "1.5B", "1.5T", "3.2M"]
    for bad in ("", "1.5X", "-1B", "0", "B"):
        with pytest.raises(ValueError):
            parse_amount(bad)
