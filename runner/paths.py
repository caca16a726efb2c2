"""Where the project's files are: the dbt project beside this package, runtime state git-ignored."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Everything the runner creates at run time (embedded server, profile, locks) lives here.
RUNTIME_DIR = Path(os.environ.get("MOODLE_ANALYTICS_RUNTIME", PROJECT_ROOT / ".runtime"))
EMBEDDED_PG_DIR = RUNTIME_DIR / "postgres"
PROFILES_DIR = RUNTIME_DIR / "profiles"
EXPORTS_DIR = PROJECT_ROOT / "exports"
TARGET_DIR = PROJECT_ROOT / "target"
# The Parquet export of the Moodle tables that the spark and duckdb targets read.
DEFAULT_PARQUET_DIR = RUNTIME_DIR / "parquet" / "moodle"
