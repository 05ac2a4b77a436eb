"""Running the model's Python code on the task's data, isolated: a stateful worker per run."""

from sourcebook.sandbox.limits import Limits
from sourcebook.sandbox.session import CellResult, PythonSandbox

__all__ = ["CellResult", "Limits", "PythonSandbox"]
