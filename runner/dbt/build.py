"""`dbt build` with the runner's guarantees: validated options and one build per database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.dbt.build_lock import build_lock
from runner.dbt.command import dbt_arguments
from runner.dbt.invoke import (
    DbtOutcome,
    NodeProgress,
    check_selector,
    check_target,
    declared_vars,
    run_dbt,
)
from runner.dbt.profiles import ensure_profile
from runner.moodle.schema import missing_tables, validate_identifier, validate_prefix
from runner.postgres.connection import ConnectionInfo
from runner.user_errors import UserError


@dataclass(frozen=True)
class BuildOptions:
    select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    full_refresh: bool = False
    vars: dict[str, Any] | None = None
    target: str | None = None
    # A selector of selectors.yml; none means the default one (`nightly`).
    selector: str | None = None

    def dbt_arguments(self) -> list[str]:
        return dbt_arguments(
            "build",
            target=self.target,
            select=self.select,
            exclude=self.exclude,
            full_refresh=self.full_refresh,
            dbt_vars=self.vars,
            extra=["--selector", self.selector] if self.selector else (),
        )


def run_build(
    info: ConnectionInfo,
    options: BuildOptions,
    *,
    on_progress: Callable[[NodeProgress], None] | None = None,
    show_dbt_output: bool = False,
) -> DbtOutcome:
    """Run dbt build while holding the database's build lock (UserError if another build has it)."""
    if options.target:
        check_target(options.target, ensure_profile())
    if options.selector:
        check_selector(options.selector)
        if options.select or options.exclude:
            # dbt would quietly drop the selector for them.
            raise UserError("--selector cannot be combined with --select or --exclude")
    with build_lock(info):
        if not options.select:
            # A whole build reads every Moodle table; a selection may need none of them, and
            # dbt names what its nodes lack.
            ensure_profile()
            check_moodle_tables(info, options)
        return run_dbt(
            options.dbt_arguments(),
            info,
            on_progress=on_progress,
            show_dbt_output=show_dbt_output,
        )


def check_moodle_tables(info: ConnectionInfo, options: BuildOptions) -> None:
    """Refuse to start when the Moodle tables the vars point at are not all there.

    dbt would find out only when it reaches the first missing table, after building the
    staging views of the others; checked here, a wrong schema or prefix changes nothing.
    """
    values = {**declared_vars(), **(options.vars or {})}
    if values.get("moodle_source_format") == "parquet":
        return  # the Moodle tables are read from files, not from this database
    schema = values.get("moodle_schema")
    prefix = values.get("moodle_table_prefix")
    try:
        validate_identifier(str(schema), "var moodle_schema")
    except ValueError as error:
        raise UserError(str(error)) from None
    try:
        validate_prefix(str(prefix))
    except ValueError as error:
        raise UserError(f"var moodle_table_prefix: {error}") from None
    connection = info.connect(autocommit=True)
    try:
        missing = missing_tables(connection, str(schema), str(prefix))
    finally:
        connection.close()
    if missing:
        raise UserError(
            f"{len(missing)} Moodle table(s) missing in schema {schema!r} of database "
            f"{info.dbname!r}: " + ", ".join(missing),
            "check vars moodle_schema and moodle_table_prefix, or load the data "
            "(moodle-analytics generate / load-dump)",
        )
