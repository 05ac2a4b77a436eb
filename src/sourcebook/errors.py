"""The one exception base of sourcebook: anything the user can fix (a missing folder, a bad request file, an
unusable model setting) is raised as a :class:`SourcebookError` whose message names the file and the reason.
The command line prints it as one line and exits with code 2; the web app shows it on the page."""

from __future__ import annotations


class SourcebookError(Exception):
    """A user-facing failure: ``str(error)`` is a one-line reason naming what was wrong."""


class InputError(SourcebookError, ValueError):
    """Bad input: a missing or unreadable file or folder, a malformed request or task file."""


class RunNotFoundError(SourcebookError, FileNotFoundError):
    """A path that is not a run directory."""


class ModelUnreachable(SourcebookError):
    """No model call of a run ever succeeded (refused connection, unknown host…); the run directory keeps
    what the run has."""

    def __init__(self, message: str, run_dir: object = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir
