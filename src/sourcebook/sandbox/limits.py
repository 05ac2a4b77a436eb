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

    def rlimits(self) -> list[tuple[int, int, int]]:
        """(resource, soft, hard); the CPU limit signals SIGXCPU a second before the hard SIGKILL."""
        return [
            (resource.RLIMIT_CPU, self.cpu_s, self.cpu_s + 1),
            (resource.RLIMIT_AS, self.memory_mb * MB, self.memory_mb * MB),
            (resource.RLIMIT_NPROC, self.processes, self.processes),
            (resource.RLIMIT_FSIZE, self.file_mb * MB, self.file_mb * MB),
            (resource.RLIMIT_CORE, 0, 0),
        ]

    def apply(self) -> None:
        """Set the limits on the current process (call in the child, before exec)."""
        for res, soft, hard in self.rlimits():
            resource.setrlimit(res, (soft, hard))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
