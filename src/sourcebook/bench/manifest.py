"""The identity of a results directory: model and settings, recorded once in ``manifest.json``.

A results directory holds runs of one configuration only; a suite started with another model or other
settings is refused with a one-line reason, so runs are never filed under the wrong model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sourcebook.bench import BenchError

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Identity:
    """What makes two suite runs comparable. ``model`` is ``""`` for the extractive (no-LLM) pipeline."""

    model: str = ""
    provider: str = ""
    base_url: str = ""
    dialect: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    rounds: int = 3
    max_turns: int = 20
    token_budget: int = 500_000

    @property
    def extractive(self) -> bool:
        return not self.model

    def label(self) -> str:
        """Short human description, e.g. ``model gpt-4o (openai)`` or ``extractive (no LLM)``."""
        if self.extractive:
            return "extractive (no LLM)"
        return f"model {self.model} ({self.provider}{', ' + self.base_url if self.base_url else ''})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "extractive": self.extractive}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Identity:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in fields})


def identity_for(llm: Any, extractive: bool, rounds: int, max_turns: int, token_budget: int) -> Identity:
    """The identity of a suite run from the effective LLM settings (no model → extractive)."""
    if extractive or not getattr(llm, "model", ""):
        return Identity(rounds=rounds)
    return Identity(model=llm.model, provider=(llm.provider or "openai").lower(), base_url=llm.base_url or "",
                    dialect=llm.dialect, temperature=llm.temperature, max_tokens=llm.max_tokens, rounds=rounds,
                    max_turns=max_turns, token_budget=token_budget)


def read_manifest(results: Path) -> dict[str, Any] | None:
    """The manifest of ``results`` or None when there is none. Raises :class:`BenchError` when unreadable."""
    path = Path(results) / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BenchError(f"{path}: unreadable manifest ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("identity"), dict):
        raise BenchError(f"{path}: not a bench manifest (no 'identity')")
    return data


def _differences(old: Identity, new: Identity) -> list[str]:
    a, b = asdict(old), asdict(new)
    return [f"{k} {a[k]!r} → {b[k]!r}" for k in a if a[k] != b[k]]


def claim(results: Path, identity: Identity, suite: dict[str, Any], resume: bool) -> dict[str, Any]:
    """Make ``results`` the home of runs with ``identity`` (writing the manifest) or check that it is.

    Refuses a directory holding runs of another identity, and a non-empty directory of the same identity
    unless ``resume`` is set (so finished runs are never overwritten by accident)."""
    results = Path(results)
    old = read_manifest(results)
    if old is not None:
        recorded = Identity.from_dict(old["identity"])
        if recorded != identity:
            raise BenchError(
                f"{results}: holds runs of {recorded.label()}, not {identity.label()} "
                f"({'; '.join(_differences(recorded, identity))}); use another --results directory")
        if not resume:
            raise BenchError(f"{results}: already holds a suite run; pass --resume to finish it "
                             "or choose another --results directory")
        return old
    if results.exists() and any(results.iterdir()):
        raise BenchError(f"{results}: not empty and has no {MANIFEST}; choose an empty or new --results directory")
    from sourcebook import __version__

    results.mkdir(parents=True, exist_ok=True)
    doc = {"identity": identity.to_dict(), "suite": suite, "sourcebook": __version__}
    (results / MANIFEST).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return doc
