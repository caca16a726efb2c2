"""`var(name, default)` returns the project's own default from dbt_project.yml.

sqlfluff's dbt builtin `var()` returns the string 'item' for every var, which macros that check
their vars (session_settings.sql) rightly reject; the real defaults also render realistic SQL.
A package's top-level names take precedence over sqlfluff's dbt builtins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"
_PROJECT_VARS: dict[str, Any] = yaml.safe_load(_PROJECT_FILE.read_text()).get("vars") or {}


def var(name: str, default: Any = None) -> Any:
    return _PROJECT_VARS.get(name, default)
