"""The one base class of errors a user can fix: the CLI prints its message and hint, never a
traceback. The layers' own error types (a connection, a PostgreSQL tool, a dump) derive from it."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: ``message`` is one line, ``hint`` (optional) may follow it,
    saying what to do or giving the underlying tool's own words."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def details(self) -> str | None:
        """The hint, under the name the JSON error document uses."""
        return self.hint
