"""The dbt profile the runner uses: written from profiles.example.yml, holding no secret.

The profile reads the libpq variables (PGHOST, PGPORT, ...) that the runner puts in dbt's
environment, so the file is the same for every database and safe to keep on disk.
A user who set DBT_PROFILES_DIR keeps their own profile; the runner only checks it.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from runner.paths import EMBEDDED_PG_DIR, PROFILES_DIR, PROJECT_ROOT, RUNTIME_DIR
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


# --- the project folder's own profile, for analysts' plain `dbt` -------------------------

PROJECT_PROFILE = PROJECT_ROOT / "profiles.yml"
PROJECT_PROFILE_HEADER = "# Written by moodle-analytics for its embedded PostgreSQL"
# The defaults of profiles.example.yml's postgres target that the embedded server replaces.
_EXAMPLE_DEFAULTS = {
    "host": "env_var('PGHOST', '127.0.0.1')",
    "port": "env_var('PGPORT', '5432')",
    "user": "env_var('PGUSER', 'postgres')",
    "dbname": "env_var('PGDATABASE', 'moodle')",
}


def is_project_server(data_dir: Path) -> bool:
    """Whether ``data_dir`` is the project's own server: the default one, in the project's
    runtime folder (a runtime moved elsewhere with MOODLE_ANALYTICS_RUNTIME is not)."""
    return (
        data_dir.absolute() == EMBEDDED_PG_DIR.absolute()
        and RUNTIME_DIR.absolute().is_relative_to(PROJECT_ROOT)
    )


def project_profile_text(socket_dir: Path, port: int, user: str, dbname: str) -> str:
    """profiles.example.yml with the embedded server as the postgres target's defaults.

    dbt reads ./profiles.yml before ~/.dbt, so a plain `dbt build` in the project folder
    reaches the runner's database. It holds no secret: the host is the server's unix socket,
    where the user who runs the server is its superuser without a password (peer). The PG*
    variables, when set, still win, as they do for the runner.
    """
    text = EXAMPLE_PROFILE.read_text(encoding="utf-8")
    values = {"host": str(socket_dir), "port": str(port), "user": user, "dbname": dbname}
    for field, default in _EXAMPLE_DEFAULTS.items():
        if default not in text:
            raise UserError(
                f"{EXAMPLE_PROFILE} lost its default {default}: cannot derive a profile"
            )
        variable = default.split("'")[1]
        text = text.replace(default, f"env_var('{variable}', '{values[field]}')", 1)
    header = (
        f"{PROJECT_PROFILE_HEADER} (rewritten at each start; git-ignored).\n"
        "# dbt reads ./profiles.yml first: a plain `dbt build` or `dbt show` here reaches the\n"
        "# runner's database. No secret: the host is the server's unix socket, where you (who\n"
        "# run the server) are its superuser without a password; PG* variables still win.\n"
    )
    return header + text


def write_project_profile(socket_dir: Path, port: int, user: str, dbname: str) -> Path | None:
    """Write PROJECT_PROFILE unless the user keeps a profiles.yml of their own there."""
    text = project_profile_text(socket_dir, port, user, dbname)
    try:
        current = PROJECT_PROFILE.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current is not None and not current.startswith(PROJECT_PROFILE_HEADER):
        return None  # the user's own: never overwritten
    if current != text:
        partial = PROJECT_PROFILE.with_name(f".profiles.yml.{os.getpid()}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, PROJECT_PROFILE)
    return PROJECT_PROFILE
