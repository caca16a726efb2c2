"""The dbt profile the runner uses: written from profiles.example.yml, holding no secret.

The profile reads the libpq variables (PGHOST, PGPORT, ...) that the runner puts in dbt's
environment, so the file is the same for every database and safe to keep on disk.
A user who set DBT_PROFILES_DIR keeps their own profile; the runner only checks it.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from runner.paths import PROFILES_DIR, PROJECT_ROOT
from runner.user_errors import UserError

PROFILE_NAME = "moodle_analytics"
EXAMPLE_PROFILE = PROJECT_ROOT / "profiles.example.yml"


def user_profiles_dir() -> Path | None:
    """The folder the user chose with DBT_PROFILES_DIR, if any."""
    chosen = os.environ.get("DBT_PROFILES_DIR")
    return Path(chosen).expanduser() if chosen else None


def profiles_dir() -> Path:
    return user_profiles_dir() or PROFILES_DIR


def profile_targets(profiles_file: Path) -> list[str]:
    """Target names of the project's profile in ``profiles_file``; UserError if it is unusable."""
    try:
        document = yaml.safe_load(profiles_file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UserError(f"dbt profile missing: {profiles_file} does not exist") from error
    except yaml.YAMLError as error:
        raise UserError(f"dbt profile {profiles_file} is not valid YAML", str(error)) from error
    profile = document.get(PROFILE_NAME) if isinstance(document, dict) else None
    if not isinstance(profile, dict) or not isinstance(profile.get("outputs"), dict):
        raise UserError(f"dbt profile {profiles_file} has no profile {PROFILE_NAME!r} with outputs")
    return list(profile["outputs"])


def ensure_profile() -> Path:
    """The folder holding a usable profiles.yml, writing the runner's own when needed."""
    chosen = user_profiles_dir()
    if chosen is not None:
        profile_targets(chosen / "profiles.yml")
        return chosen
    text = EXAMPLE_PROFILE.read_text(encoding="utf-8")
    target = PROFILES_DIR / "profiles.yml"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        PROFILES_DIR.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".profiles.yml.{os.getpid()}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    return PROFILES_DIR
