"""Price table lookups and loading."""

from __future__ import annotations

import pytest

from sourcebook.llm.cost import Price, PriceTable, default_price_table
from sourcebook.llm.types import Usage


def test_longest_pattern_wins_and_provider_prefix_is_ignored():
    table = PriceTable()
    assert table.lookup("gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert table.lookup("gpt-4o-2024-08-06") == Price(2.50, 10.00)
    assert table.lookup("openai/gpt-4o-mini") == Price(0.15, 0.60)
    assert table.lookup("GPT-4O-MINI") == Price(0.15, 0.60)
    assert table.lookup("my-local-qwen") is None
    assert table.cost("my-local-qwen", Usage(10, 10)) is None


def test_cost_arithmetic():
    table = PriceTable({"m*": (2.0, 8.0)})
    assert table.cost("model", Usage(1_000_000, 500_000)) == pytest.approx(6.0)
    assert table.cost("other", Usage(1, 1)) is None


def test_from_file_overrides_defaults(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text('"gpt-4o-mini*": {input: 1, output: 2}\n"local-*": {input: 0, output: 0}\n', encoding="utf-8")
    table = PriceTable.from_file(path)
    assert table.lookup("gpt-4o-mini") == Price(1, 2)
    assert table.cost("local-llama", Usage(100, 100)) == 0.0
    assert table.lookup("claude-sonnet-4-5") is not None  # defaults kept
    only = PriceTable.from_file(path, include_defaults=False)
    assert only.lookup("claude-sonnet-4-5") is None
    toml_path = tmp_path / "prices.toml"
    toml_path.write_text('"x-*" = {input = 3, output = 4}\n', encoding="utf-8")
    assert PriceTable.from_file(toml_path).lookup("x-1") == Price(3, 4)


def test_bad_price_files_name_the_file(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text('"m*": {input: 1}\n', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        PriceTable.from_file(path)
    assert str(path) in str(info.value) and "input" in str(info.value)
    path.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must map model patterns"):
        PriceTable.from_file(path)


def test_environment_price_file(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    path.write_text('{"env-model": {"input": 5, "output": 5}}', encoding="utf-8")
    monkeypatch.setenv("SOURCEBOOK_PRICES_FILE", str(path))
    assert default_price_table().lookup("env-model") == Price(5, 5)
