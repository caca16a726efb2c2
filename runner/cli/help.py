"""Tidy `--help` pages: option types as plain metavars, prose reflowed to the terminal.

Typer's rich help shows a type placeholder for every option (``<bool>`` beside a flag,
``<list[str]>`` beside a repeatable option) and keeps the docstrings' own line breaks inside
paragraphs, which wrap raggedly at any other width. Both are adjusted here, once, for every
command; a Typer without these hooks is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

import typer.core
import typer.rich_utils

# Typer's placeholder (``<int>``, ``<list[str]>``, ``<path>``) -> click's usual metavar.
_PLACEHOLDER = re.compile(r"^<(?:list\[)?(?P<name>[\w ]+?)\]?>$")
_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH"}


def _metavar(shown: str | None) -> str | None:
    if not shown:
        return shown
    match = _PLACEHOLDER.match(shown)
    if match is None:
        return shown.replace("<", "[").replace(">", "]")  # choices: [env|url|json]
    name = match.group("name")
    return _METAVARS.get(name, name.upper().replace(" ", "_"))


def _reflow(paragraphs: list[str], markup_mode: Any = None) -> str:
    """Paragraphs joined by blank lines, each one line (``\\b`` keeps a paragraph as typed)."""
    return "\n\n".join(
        paragraph if paragraph.lstrip().startswith("\b") else " ".join(paragraph.split())
        for paragraph in paragraphs
    )


def _tidy_types(parameter_class: Any) -> None:
    original = getattr(parameter_class, "display_type_rich", None)
    if original is None or getattr(original, "_tidy", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and not getattr(self, "metavar", None):
            return None  # a flag takes no value
        return _metavar(original(self, ctx))

    display_type_rich._tidy = True  # type: ignore[attr-defined]
    parameter_class.display_type_rich = display_type_rich


def tidy_typer_help() -> None:
    for name in ("TyperOption", "TyperArgument"):
        parameter_class = getattr(typer.core, name, None)
        if parameter_class is not None:
            _tidy_types(parameter_class)
    argument = getattr(typer.core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "_usage_display_name"):

        def usage_name(self: Any) -> str:
            """``PATH`` (required) or ``[PATH]`` in the usage line, as click writes them."""
            name = (self.metavar or self.name or "").upper().replace("-", "_")
            name += "..." if self.nargs != 1 else ""
            return name if self.required else f"[{name}]"

        argument._usage_display_name = usage_name
    if hasattr(typer.rich_utils, "_fix_linebreaks"):
        typer.rich_utils._fix_linebreaks = _reflow
