"""The one exception type the CLI turns into a one-line message instead of a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: ``message`` is one line, ``details`` may follow it."""

    def __init__(self, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
