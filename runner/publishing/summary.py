"""What a user needs after a build: the marts with row counts and how Tableau connects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from runner.moodle.schema import validate_identifier
from runner.postgres.connection import ConnectionInfo

MART_SCHEMA = "mart"


@dataclass(frozen=True)
class MartTable:
    name: str
    rows: int


def mart_tables(info: ConnectionInfo, schema: str = MART_SCHEMA) -> list[MartTable]:
    """Every table and view in the mart schema with its exact row count, by name."""
    validate_identifier(schema, "mart schema")
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name from information_schema.tables "
                "where table_schema = %s order by table_name",
                (schema,),
            )
            names = [row[0] for row in cursor.fetchall()]
            tables = []
            for name in names:
                cursor.execute(
                    sql.SQL("select count(*) from {}").format(sql.Identifier(schema, name))
                )
                tables.append(MartTable(name, int(cursor.fetchone()[0])))
    finally:
        connection.close()
    return tables


def tableau_connection(info: ConnectionInfo, schema: str = MART_SCHEMA) -> dict[str, Any]:
    """The fields of Tableau's PostgreSQL connector; the password is never included."""
    return {
        "server": info.host,
        "port": info.port,
        "database": info.dbname,
        "user": info.user,
        "schema": schema,
    }


# --- after the demo: what to do next, and what the warnings mean -------------------------


def command_name() -> str:
    """How the user calls the runner: the project venv's path when that is what ran."""
    import sys
    from pathlib import Path

    from runner.paths import PROJECT_ROOT

    program = Path(sys.argv[0]).absolute() if sys.argv and sys.argv[0] else None
    venv_bin = PROJECT_ROOT / ".venv" / "bin"
    if program is not None and program.parent == venv_bin and program.name == "moodle-analytics":
        return ".venv/bin/moodle-analytics"
    return "moodle-analytics"


def next_steps(
    *,
    docs_path: Any,
    tableau_files: list[Any],
    embedded: bool,
    tableau_workbook: Any | None = None,
    project_profile: Any | None,
) -> list[str]:
    """The short list a newcomer follows after the demo, with the real paths in it."""
    runner = command_name()
    steps = [f"Read the docs: open {docs_path} in a browser (the start page says where to begin)."]
    if tableau_files:
        first = next((path for path in tableau_files if "fact_learner_week" in str(path)), None)
        folder = (first or tableau_files[0]).parent
        dashboard = f"the dashboard {tableau_workbook}, or " if tableau_workbook is not None else ""
        steps.append(
            f"Connect Tableau: open {dashboard}{first or tableau_files[0]} (one .tds per fact in "
            f"{folder}) and log in as a read-only reporting user: `{runner} db reporting-login "
            "tableau` creates one in bi_reader and shows its password once."
        )
    if embedded:
        where = (
            f"`dbt show --select moodle_table_count` in {project_profile.parent} (its "
            "profiles.yml points at this server)"
            if project_profile is not None
            else "`dbt show --select moodle_table_count`"
        )
        steps.append(
            f'Query it: {where}, or psql after `eval "$({runner} db url)"` (no password to type).'
        )
        steps.append(
            f"Stop the server when you are done: `{runner} db stop` "
            "(it keeps running between commands until then)."
        )
    else:
        steps.append(
            "Query it: `dbt show --select moodle_table_count` or psql, with the same PG* variables."
        )
    return steps


def warning_reasons(nodes: list[Any], manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(test name, one-line reason) for every test that warned."""
    reasons = []
    for node in nodes:
        if node.status != "warn":
            continue
        test = manifest.get("nodes", {}).get(node.unique_id, {})
        metadata = test.get("test_metadata") or {}
        kwargs = metadata.get("kwargs") or {}
        model = _model_of(test, manifest)
        column = kwargs.get("column_name") or "rows"
        rows = f"{node.failures} rows" if node.failures is not None else "some rows"
        kind = metadata.get("name")
        if kind in ("relationships", "relationships_where"):
            target = str(kwargs.get("to", "")).removeprefix("ref(").strip("')\"")
            reason = f"{rows} of {model} have a {column} that is not in {target}"
        elif kind == "hostile_rows":
            reason = (
                f"{rows} of {model} are flagged ({column}): kept in staging, out of the metrics"
            )
        elif kind:
            reason = f"{rows} of {model} fail {kind} on {column}"
        else:
            description = " ".join(str(test.get("description") or "").split())
            reason = description.split(". ")[0] if description else (node.message or "warned")
        reasons.append((node.name, f"{reason} (a warning: real Moodle data has such rows)"))
    return reasons


def _model_of(test: dict[str, Any], manifest: dict[str, Any]) -> str:
    attached = test.get("attached_node") or ""
    node = manifest.get("nodes", {}).get(attached)
    return node["name"] if node else attached.rsplit(".", 1)[-1] or "the model"
