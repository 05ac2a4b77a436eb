"""Resource limits of the sandboxed worker, applied as rlimits in the child before it starts."""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass
from typing import Any

MB = 2**20


@dataclass(frozen=True)
class Limits:
    """CPU seconds, address space, processes/threads and file size for the worker; per-call wall clock and
    output size for the caller."""

    cpu_s: int = 600
    memory_mb: int = 4096
    processes: int = 64
    file_mb: int = 256
    tmp_mb: int = 256
    timeout_s: float = 120.0
    max_output_chars: int = 20_000

    def rlimits(self) -> list[tuple[int, int]]:
        """(resource, value) pairs, soft = hard."""
        return [
            (resource.RLIMIT_CPU, self.cpu_s),
            (resource.RLIMIT_AS, self.memory_mb * MB),
            (resource.RLIMIT_NPROC, self.processes),
            (resource.RLIMIT_FSIZE, self.file_mb * MB),
            (resource.RLIMIT_CORE, 0),
        ]

    def apply(self) -> None:
        """Set the limits on the current process (call in the child, before exec)."""
        for res, value in self.rlimits():
            resource.setrlimit(res, (value, value))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
