"""Per-run limits: how many model turns and how many tokens (counted from the usage the server reports)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sourcebook.llm.types import Usage


@dataclass
class Budget:
    """``max_tokens`` counts prompt + completion tokens over the whole run; ``None`` means no token limit."""

    max_turns: int = 20
    max_tokens: int | None = 500_000
    used: Usage = field(default_factory=Usage)
    turns: int = 0

    def charge(self, usage: Usage) -> None:
        """Add one model call's usage."""
        self.used = self.used + usage

    @property
    def out_of_tokens(self) -> bool:
        return self.max_tokens is not None and self.used.total_tokens >= self.max_tokens

    @property
    def out_of_turns(self) -> bool:
        return self.turns >= self.max_turns

    @property
    def exhausted(self) -> bool:
        return self.out_of_turns or self.out_of_tokens

    def stop_reason(self) -> str:
        if self.out_of_tokens:
            return "token_budget"
        if self.out_of_turns:
            return "max_turns"
        return ""
