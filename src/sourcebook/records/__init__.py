"""Run records: the run directory and its trace."""

from sourcebook.records.run_dir import RunDir, redact, settings_snapshot
from sourcebook.records.trace import TraceWriter, read_trace

__all__ = ["RunDir", "TraceWriter", "read_trace", "redact", "settings_snapshot"]
