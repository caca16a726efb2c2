"""The code style gates run with the test suite, so CI and a contributor see the same verdict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.paths import PROJECT_ROOT

BIN = Path(sys.executable).parent
PYTHON_PATHS = ["runner", "tests", "bench"]
SQL_PATHS = ["models", "macros", "tests", "analyses"]


def _existing(paths: list[str]) -> list[str]:
    return [path for path in paths if (PROJECT_ROOT / path).exists()]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)


def test_python_is_ruff_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", *_existing(PYTHON_PATHS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_is_ruff_formatted() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", *_existing(PYTHON_PATHS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_sql_is_sqlfluff_clean() -> None:
    result = _run(str(BIN / "sqlfluff"), "lint", "--processes", "0", *_existing(SQL_PATHS))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
