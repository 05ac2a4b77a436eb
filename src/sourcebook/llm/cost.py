"""Optional cost estimate: USD per 1M prompt / completion tokens, looked up by model-name pattern.

The built-in table is a rough default; list prices change, so override it with a YAML/JSON/TOML file
(``SOURCEBOOK_PRICES_FILE`` or :meth:`PriceTable.from_file`) shaped like::

    "gpt-4o-mini*": {input: 0.15, output: 0.60}
    "my-local-*":   {input: 0, output: 0}

Patterns are shell-style (``fnmatch``), matched case-insensitively against the model name (a provider
prefix such as ``openai/`` is also tried without it); the longest matching pattern wins. Unknown models
have no price and their cost is ``None``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .types import Usage


@dataclass(frozen=True)
class Price:
    """USD per one million tokens."""

    input: float
    output: float

    def cost(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.input + usage.completion_tokens * self.output) / 1_000_000


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini*": Price(0.15, 0.60),
    "gpt-4o*": Price(2.50, 10.00),
    "gpt-4.1-nano*": Price(0.10, 0.40),
    "gpt-4.1-mini*": Price(0.40, 1.60),
    "gpt-4.1*": Price(2.00, 8.00),
    "o4-mini*": Price(1.10, 4.40),
    "claude-3-5-haiku*": Price(0.80, 4.00),
    "claude-haiku-4*": Price(1.00, 5.00),
    "claude-3-7-sonnet*": Price(3.00, 15.00),
    "claude-sonnet-4*": Price(3.00, 15.00),
    "claude-opus-4*": Price(15.00, 75.00),
    "deepseek-chat*": Price(0.27, 1.10),
    "qwen-plus*": Price(0.40, 1.20),
    "qwen-max*": Price(1.60, 6.40),
}


class PriceTable:
    """Model-name patterns → :class:`Price`."""

    def __init__(self, prices: Mapping[str, Price | Mapping[str, float] | tuple[float, float]] | None = None):
        self.prices: dict[str, Price] = {}
        for pattern, value in (DEFAULT_PRICES if prices is None else prices).items():
            self.prices[pattern.lower()] = _price(pattern, value)

    @classmethod
    def from_file(cls, path: str | Path, *, include_defaults: bool = True) -> PriceTable:
        """Load patterns from a YAML, JSON or TOML file (on top of the defaults unless told otherwise)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix.lower() == ".toml":
                data: Any = tomllib.loads(text)
            elif path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                data = yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read price table: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: price table must map model patterns to {{input, output}}")
        merged: dict[str, Any] = dict(DEFAULT_PRICES) if include_defaults else {}
        try:
            merged.update({str(k): _price(str(k), v) for k, v in data.items()})
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        return cls(merged)

    def lookup(self, model: str) -> Price | None:
        """Price of ``model`` (longest matching pattern), or ``None``."""
        name = (model or "").lower()
        candidates = [name]
        if "/" in name:
            candidates.append(name.rsplit("/", 1)[1])
        best: tuple[int, Price] | None = None
        for pattern, price in self.prices.items():
            if any(fnmatch.fnmatchcase(c, pattern) for c in candidates) and (best is None or len(pattern) > best[0]):
                best = (len(pattern), price)
        return best[1] if best else None

    def cost(self, model: str, usage: Usage) -> float | None:
        """USD cost of ``usage`` on ``model``, or ``None`` when the model has no price."""
        price = self.lookup(model)
        return None if price is None else price.cost(usage)


def _price(pattern: str, value: Any) -> Price:
    if isinstance(value, Price):
        return value
    if isinstance(value, tuple | list) and len(value) == 2:
        return Price(float(value[0]), float(value[1]))
    if isinstance(value, Mapping) and "input" in value and "output" in value:
        return Price(float(value["input"]), float(value["output"]))
    raise ValueError(f"price for {pattern!r} must be {{input: <usd per 1M>, output: <usd per 1M>}}, got {value!r}")


def default_price_table() -> PriceTable:
    """The built-in table, extended by ``SOURCEBOOK_PRICES_FILE`` when that is set."""
    path = os.environ.get("SOURCEBOOK_PRICES_FILE")
    return PriceTable.from_file(path) if path else PriceTable()
