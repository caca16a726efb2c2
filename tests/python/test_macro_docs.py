"""Every macro of the project is explained on the docs site, from YAML beside it.

dbt shows a macro's description and its arguments' only when a `macros:` YAML entry gives
them. This reads the manifest of the shared real-site build (the one dbt wrote while parsing,
so it costs the suite no dbt run of its own) and checks, for every macro of the project:
a description; a description for each argument of its signature and no YAML argument the
signature lacks; and that the entry sits in `_<folder>__macros.yml` in the macro's own folder.

An engine's implementation of a dispatched macro (`postgres__to_local_timestamp`, found by
`adapter.dispatch('to_local_timestamp', ...)`) is explained by the entry of the macro that
dispatches to it, which the docs site shows; a project override of one of dbt's own macros
(`spark__apply_grants`) has no such macro in the project and needs its own entry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from runner.postgres.connection import ConnectionInfo

PROJECT = "moodle_analytics"
SIGNATURE = re.compile(r"\{%-?\s*(?:macro|test)\s+\w+\s*\((?P<arguments>.*?)\)\s*-?%\}", re.S)
IMPLEMENTATION = re.compile(r"(?P<adapter>[a-z]+)__(?P<dispatched>\w+)")

Macro = dict[str, Any]


@pytest.fixture(scope="module")
def macros(real_site_build: tuple[ConnectionInfo, Path]) -> dict[str, Macro]:
    """The project's macros by name, as the docs site reads them."""
    manifest = json.loads((real_site_build[1] / "target" / "manifest.json").read_text())
    return {
        macro["name"]: macro
        for macro in manifest["macros"].values()
        if macro["package_name"] == PROJECT
    }


def signature_arguments(macro_sql: str) -> list[str]:
    """Argument names of a macro's or generic test's signature (none for a materialization)."""
    found = SIGNATURE.match(macro_sql.lstrip())
    if found is None:
        return []
    names, depth, current = [], 0, ""
    for char in found["arguments"] + ",":
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            if current.strip():
                names.append(current.split("=")[0].strip())
            current = ""
        else:
            current += char
    return names


def explained_by_dispatcher(name: str, macros: dict[str, Macro]) -> bool:
    """An engine's implementation (`spark__x`) of a project macro `x` that dispatches to it;
    `default__x` stands for `x` where no macro has the bare name (dispatched by name only)."""
    found = IMPLEMENTATION.fullmatch(name)
    if found is None:
        return False
    dispatched = found["dispatched"]
    return dispatched in macros or (
        found["adapter"] != "default" and f"default__{dispatched}" in macros
    )


def test_every_macro_has_a_description(macros: dict[str, Macro]) -> None:
    undocumented = sorted(
        f"{macro['original_file_path']}: {name}"
        for name, macro in macros.items()
        if not macro["description"].strip() and not explained_by_dispatcher(name, macros)
    )
    assert undocumented == [], "macros without a YAML description:\n" + "\n".join(undocumented)


def test_every_argument_has_a_description(macros: dict[str, Macro]) -> None:
    """Each argument of the signature described; none described that the signature lacks."""
    wrong = []
    for name, macro in sorted(macros.items()):
        if not macro["description"].strip():
            continue  # the test above names it, or a dispatcher explains it
        in_signature = signature_arguments(macro["macro_sql"])
        in_yaml = {argument["name"]: argument["description"] for argument in macro["arguments"]}
        wrong += [
            f"{name}: argument {argument} has no description"
            for argument in in_signature
            if not in_yaml.get(argument, "").strip()
        ]
        wrong += [
            f"{name}: the YAML describes {argument}, which the macro does not take"
            for argument in in_yaml
            if argument not in in_signature
        ]
    assert wrong == [], "\n".join(wrong)


def test_each_macro_is_described_beside_it(macros: dict[str, Macro]) -> None:
    """`_<folder>__macros.yml` in the macro's own folder, so moving one moves both."""
    misplaced = []
    for name, macro in sorted(macros.items()):
        if not macro["patch_path"] or not macro["original_file_path"].startswith("macros/"):
            continue  # generic tests are described in tests/generic/_generic__tests.yml
        folder = Path(macro["original_file_path"]).parent
        expected = folder / f"_{folder.name}__macros.yml"
        actual = Path(macro["patch_path"].split("://", 1)[1])
        if actual != expected:
            misplaced.append(f"{name} ({macro['original_file_path']}): described in {actual}")
    assert misplaced == [], "\n".join(misplaced)
