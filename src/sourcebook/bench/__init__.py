"""Benchmark suites: many folder tasks run in parallel (process pool or Ray), resumable, scored by the same
checks as a single report (``sourcebook bench``)."""

from __future__ import annotations


class BenchError(Exception):
    """A suite could not be set up or read; the message names the file and the reason."""


__all__ = ["BenchError"]
