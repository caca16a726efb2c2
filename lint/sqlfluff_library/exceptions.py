"""dbt's `exceptions` namespace: warnings vanish, compiler errors stop the rendering."""

from __future__ import annotations


def warn(message: str) -> str:
    return ""


def raise_compiler_error(message: str) -> None:
    raise RuntimeError(message)
