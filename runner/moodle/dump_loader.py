"""Load a real Moodle site's ``pg_dump`` into a schema of the analytics database.

Accepted: custom format (``pg_dump -Fc``, recognised by its ``PGDMP`` magic bytes), plain SQL,
and plain SQL compressed with gzip. Tar and directory formats are refused with a clear line.

How (chosen for robustness; the 2.4 MB dump of a ~490-table site takes a few seconds):

1. the dump is restored into a scratch database on the same server: every table definition,
   but rows only for the 20 tables the project reads (the rest of a real site, files, sessions
   and caches, can be large), without the site's owners and grants (``--no-owner
   --no-privileges``; for plain SQL those lines are skipped);
2. there, the schema holding the Moodle tables (``public`` in a normal dump) is renamed to the
   chosen schema;
3. only the 20 tables the project reads, with their indexes, constraints and sequences, are
   copied to the target with ``pg_dump --table`` piped into ``psql --single-transaction``:
   the target changes all at once or not at all;
4. the scratch database is dropped, whatever happened.

Existing tables are never clobbered unless ``replace=True`` (then the 20 tables are dropped
with CASCADE, which also drops views built on them; dbt rebuilds those). The user needs the
right to create databases (for the scratch one). The client programs come from
``runner.postgres.pg_tools`` (the bundled ones, matched to the server's version).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import subprocess
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from psycopg2 import errors, sql

from runner.moodle.schema import (
    DEFAULT_PREFIX,
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    missing_tables,
    validate_identifier,
    validate_prefix,
)
from runner.postgres.connection import LIBPQ_VARIABLES, ConnectionInfo
from runner.postgres.pg_tools import PgToolError, bundled_bin_dirs, find_tool
from runner.user_errors import UserError

SCRATCH_PREFIX = "ma_restore_"
CHUNK_BYTES = 1 << 20
MAX_WARNINGS = 20
# Plain dumps: statements that only make sense on the site's own server. Ownership and grants
# are skipped (what --no-owner/--no-privileges do for archives); switching database is refused.
_OWNERSHIP_OR_GRANT = re.compile(
    rb"^(ALTER [A-Z ]+ .* OWNER TO |GRANT |REVOKE |ALTER DEFAULT PRIV)"
)
_SWITCHES_DATABASE = re.compile(rb"^(\\connect\b|\\c |CREATE DATABASE |DROP DATABASE )")
# `COPY public.mdl_user (id, ...) FROM stdin;` (names quoted only when they need it).
_COPY_START = re.compile(rb'^COPY (?:(?:"[^"]*"|[^ ."]+)\.)?"?([^ "(]+)"? .*FROM stdin;\s*$')
# `10973; 0 60880 TABLE DATA public mdl_adminpresets postgres` in `pg_restore --list`.
_TABLE_DATA_ENTRY = re.compile(r"^\d+; \d+ \d+ TABLE DATA \S+ (\S+) ")


class DumpLoadError(UserError):
    """The dump cannot be loaded; the message says why in one line."""


@dataclass
class LoadReport:
    format: str  # 'custom' | 'plain' | 'plain-gz'
    schema: str
    tables_restored: int  # required Moodle tables copied into the schema
    missing_tables: list[str]  # required tables (with prefix) the schema still lacks
    seconds: float
    # Restore errors that touched none of the required tables (e.g. a table of a plugin).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_tables

    @property
    def problem(self) -> str | None:
        if not self.missing_tables:
            return None
        return "the dump lacks required Moodle tables: " + ", ".join(self.missing_tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "format": self.format,
            "schema": self.schema,
            "tables_restored": self.tables_restored,
            "missing_tables": self.missing_tables,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


def load_dump(
    info: ConnectionInfo,
    dump: Path,
    *,
    schema: str = "public",
    prefix: str = DEFAULT_PREFIX,
    replace: bool = False,
) -> LoadReport:
    """Restore the Moodle tables of ``dump`` into ``schema`` of the database ``info`` names.

    Raises ``DumpLoadError`` (one line) for a bad schema/prefix, a missing or unreadable file,
    something that is not a pg_dump, required tables already in ``schema`` (unless
    ``replace``), or a failed restore; the target is then unchanged. ``ConnectionError_``
    (one line) when the database cannot be reached. Tables missing from the
    dump are not an error here: they are listed in ``LoadReport.missing_tables``.
    """
    started = time.monotonic()
    try:
        validate_identifier(schema, "schema")
        validate_prefix(prefix)
    except ValueError as error:
        raise DumpLoadError(str(error)) from error
    dump_format = detect_format(dump)
    required = [prefix + name for name in REQUIRED_TABLES]
    # Optional tables come along when the dump has them; nothing is said when it has not.
    wanted = required + [prefix + name for name in OPTIONAL_TABLES]

    target = info.connect(autocommit=True)  # raises ConnectionError_ with one line
    try:
        server_major = target.server_version // 10000
        archive = _read_archive(dump, server_major) if dump_format == "custom" else None
        existing = _present_tables(target, schema, wanted)
        if existing and not replace:
            raise DumpLoadError(
                f"schema {schema!r} of {info.describe()} already holds {', '.join(existing)}: "
                "refusing to overwrite them (load with replace, or choose another schema)"
            )
        scratch = _create_scratch_database(target, info)
        try:
            if archive is not None:
                warnings = _restore_archive(archive, dump, scratch, wanted)
            else:
                warnings = _restore_plain(dump, dump_format, scratch, server_major, wanted)
            copied = _prepare_scratch(scratch, schema, prefix)
            prologue = _prologue(target, schema, prefix, replace)
            _copy_tables(scratch, info, schema, copied, prologue, server_major)
        finally:
            _drop_database(target, scratch.dbname)
        _analyze(target, schema, copied)
        missing = missing_tables(target, schema, prefix)
    except PgToolError as error:
        raise DumpLoadError(str(error)) from error
    finally:
        target.close()
    return LoadReport(
        format=dump_format,
        schema=schema,
        tables_restored=len(copied),
        missing_tables=missing,
        seconds=round(time.monotonic() - started, 2),
        warnings=warnings,
    )


def check_moodle_tables(
    info: ConnectionInfo, schema: str, prefix: str = DEFAULT_PREFIX
) -> list[str]:
    """The required Moodle tables (with prefix) that ``schema`` lacks; empty when complete."""
    try:
        validate_identifier(schema, "schema")
        validate_prefix(prefix)
    except ValueError as error:
        raise DumpLoadError(str(error)) from error
    connection = info.connect()
    try:
        return missing_tables(connection, schema, prefix)
    finally:
        connection.close()


def detect_format(dump: Path) -> str:
    """'custom', 'plain' or 'plain-gz'; ``DumpLoadError`` for anything else."""
    dump = Path(dump)
    if not dump.exists():
        raise DumpLoadError(f"dump file not found: {dump}")
    if dump.is_dir():
        raise DumpLoadError(
            f"{dump} is a folder: directory-format dumps are not supported "
            "(make the dump with pg_dump -Fc, or plain SQL)"
        )
    try:
        with dump.open("rb") as handle:
            head = handle.read(8192)
    except OSError as error:
        raise DumpLoadError(f"cannot read {dump}: {error.strerror}") from error
    if head.startswith(b"PGDMP"):
        return "custom"
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(dump, "rb") as handle:
                text_head = handle.read(8192)
        except (OSError, EOFError, zlib.error) as error:
            raise DumpLoadError(f"{dump} is not a readable gzip file: {error}") from error
        _check_plain_head(dump, text_head)
        return "plain-gz"
    if head[257:262] == b"ustar":
        raise DumpLoadError(
            f"{dump} is a tar-format dump, which is not supported (use pg_dump -Fc, or plain SQL)"
        )
    _check_plain_head(dump, head)
    return "plain"


def _check_plain_head(dump: Path, head: bytes) -> None:
    text = head.decode("utf-8", errors="replace")
    if "PostgreSQL database cluster dump" in text:
        raise DumpLoadError(
            f"{dump} is a pg_dumpall cluster dump: dump the Moodle database alone with pg_dump"
        )
    if "PostgreSQL database dump" not in text:
        raise DumpLoadError(
            f"{dump} is not a PostgreSQL dump (expected pg_dump -Fc output, or plain SQL "
            "from pg_dump, optionally gzipped)"
        )


# ------------------------------------------------------------------ scratch database


def _create_scratch_database(target, info: ConnectionInfo) -> ConnectionInfo:
    name = SCRATCH_PREFIX + uuid.uuid4().hex[:12]
    statement = sql.SQL("create database {} template template0").format(sql.Identifier(name))
    try:
        with target.cursor() as cursor:
            cursor.execute(statement)
    except errors.InsufficientPrivilege as error:
        raise DumpLoadError(
            f"loading a dump needs a scratch database, but user {info.user!r} may not create "
            f"databases on {info.host}:{info.port} (grant CREATEDB, or use a superuser)"
        ) from error
    return info.with_database(name)


def _drop_database(target, name: str) -> None:
    with target.cursor() as cursor:
        cursor.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


def _read_archive(dump: Path, server_major: int) -> tuple[Path, str]:
    """A pg_restore that reads the archive (preferring the one matched to the server), and
    the archive's table of contents.

    An archive from a newer pg_dump needs a newer pg_restore; its extra settings then fail
    harmlessly on the older server (reported as warnings).
    """
    candidates = [find_tool("pg_restore", server_major=server_major)]
    candidates += [path / "pg_restore" for path in reversed(bundled_bin_dirs().values())]
    last_error = ""
    for tool in dict.fromkeys(candidates):
        listed = subprocess.run(
            [str(tool), "--list", str(dump)], capture_output=True, text=True, check=False
        )
        if listed.returncode == 0:
            return tool, listed.stdout
        last_error = _first_error_line(listed.stderr)
        if "unsupported version" not in last_error:
            break
    raise DumpLoadError(f"{dump} is not a readable pg_dump archive: {last_error}")


def _restore_archive(
    archive: tuple[Path, str], dump: Path, scratch: ConnectionInfo, required: list[str]
) -> list[str]:
    tool, contents = archive
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as use_list:
        use_list.write(_without_foreign_data(contents, set(required)))
        use_list.flush()
        restored = subprocess.run(
            [
                str(tool),
                "--no-owner",
                "--no-privileges",
                f"--use-list={use_list.name}",
                f"--dbname={scratch.dbname}",
                str(dump),
            ],
            capture_output=True,
            text=True,
            env=_client_env(scratch, scratch=True),
            check=False,
        )
    if restored.returncode != 0 and "errors ignored on restore" not in restored.stderr:
        raise DumpLoadError(
            f"pg_restore could not restore {dump}: {_first_error_line(restored.stderr)}"
        )
    return _judge_errors(restored.stderr, "pg_restore:", required, dump)


def _without_foreign_data(contents: str, required: set[str]) -> str:
    """The archive's table of contents minus the rows of tables the project does not read."""
    kept = []
    for line in contents.splitlines():
        entry = _TABLE_DATA_ENTRY.match(line)
        if entry is None or entry.group(1) in required:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _restore_plain(
    dump: Path, dump_format: str, scratch: ConnectionInfo, server_major: int, required: list[str]
) -> list[str]:
    psql = find_tool("psql", server_major=server_major)
    command = [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-v", "VERBOSITY=default", "-f", "-"]
    opener = gzip.open if dump_format == "plain-gz" else open
    try:
        with opener(dump, "rb") as source:
            statements = _plain_sql(source, dump, set(required))
            env = _client_env(scratch, scratch=True)
            returncode, stderr = _run_psql_script(command, env, statements)
    except (OSError, EOFError, zlib.error) as error:
        raise DumpLoadError(f"cannot read {dump} to the end: {error}") from error
    if returncode != 0:
        raise DumpLoadError(f"psql could not restore {dump}: {_first_error_line(stderr)}")
    return _judge_errors(stderr, "psql:", required, dump)


def _plain_sql(source: IO[bytes], dump: Path, required: set[str]) -> Iterator[bytes]:
    """The dump's lines in chunks, without ownership/grants nor the rows of tables the
    project does not read; refuses database switches."""
    in_copy = skipping = False
    pending: list[bytes] = []
    size = 0
    for line in source:
        if in_copy:
            in_copy = line.rstrip(b"\r\n") != b"\\."
            if skipping:
                continue
        elif copy := _COPY_START.match(line):
            in_copy = True
            skipping = copy.group(1).decode("utf-8", errors="replace") not in required
            if skipping:
                continue
        elif _OWNERSHIP_OR_GRANT.match(line):
            continue
        elif _SWITCHES_DATABASE.match(line):
            raise DumpLoadError(
                f"{dump} creates or switches databases (made with pg_dump --create?): "
                "dump the Moodle database without --create"
            )
        pending.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    yield b"".join(pending)


def _judge_errors(stderr: str, tool_prefix: str, required: list[str], dump: Path) -> list[str]:
    """Fail on any error touching a required table; the others become warnings."""
    required_word = re.compile(r"\b(" + "|".join(map(re.escape, required)) + r")\b")
    warnings: list[str] = []
    for block in _error_blocks(stderr, tool_prefix):
        touched = required_word.search(block)
        if touched:
            raise DumpLoadError(
                f"restoring {dump} failed for {touched.group(1)}: {_first_error_line(block)}"
            )
        warnings.append(_first_error_line(block))
    if len(warnings) > MAX_WARNINGS:
        extra = len(warnings) - MAX_WARNINGS
        warnings = [
            *warnings[:MAX_WARNINGS],
            f"... and {extra} more errors outside the Moodle tables",
        ]
    return warnings


def _error_blocks(stderr: str, tool_prefix: str) -> list[str]:
    """Each reported error with its context lines (TOC entry, CONTEXT, Command was)."""
    blocks: list[list[str]] = []
    for line in stderr.splitlines():
        starts_block = line.startswith(tool_prefix)
        joins_toc_entry = (
            bool(blocks)
            and blocks[-1][0].startswith("pg_restore: from TOC entry")
            and len(blocks[-1]) == 1
        )
        if starts_block and not joins_toc_entry:
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    texts = ["\n".join(block) for block in blocks]
    return [
        text
        for text in texts
        if ("ERROR" in text or "error:" in text) and "errors ignored on restore" not in text
    ]


def _prepare_scratch(scratch: ConnectionInfo, schema: str, prefix: str) -> list[str]:
    """Rename the dump's Moodle schema to ``schema``; the Moodle tables it holds."""
    wanted = [prefix + name for name in REQUIRED_TABLES + OPTIONAL_TABLES]
    connection = scratch.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                select table_schema, array_agg(table_name::text)
                from information_schema.tables
                where table_type = 'BASE TABLE' and table_name = any(%s)
                group by table_schema
                order by count(*) desc, table_schema = 'public' desc
                """,
                (wanted,),
            )
            found = cursor.fetchall()
            if not found:
                raise DumpLoadError(_no_moodle_tables_message(cursor, prefix))
            source_schema, tables = found[0]
            if source_schema != schema:
                cursor.execute("select 1 from pg_namespace where nspname = %s", (schema,))
                if cursor.fetchone() is not None:
                    raise DumpLoadError(
                        f"the dump has its own schema {schema!r} besides the Moodle tables in "
                        f"{source_schema!r}: choose another schema name"
                    )
                cursor.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(source_schema), sql.Identifier(schema)
                    )
                )
        connection.commit()
    finally:
        connection.close()
    return [name for name in wanted if name in set(tables)]


def _no_moodle_tables_message(cursor, prefix: str) -> str:
    cursor.execute(
        """
        select table_name from information_schema.tables
        where table_name like '%%logstore\\_standard\\_log' order by 1 limit 1
        """
    )
    row = cursor.fetchone()
    if row is not None:
        guess = row[0][: -len("logstore_standard_log")]
        return (
            f"the dump has no Moodle tables with prefix {prefix!r}; "
            f"it has {row[0]}: is the prefix {guess!r}?"
        )
    return f"the dump holds no Moodle tables (no {prefix}logstore_standard_log, {prefix}user, ...)"


# ------------------------------------------------------------------ copy to the target


def _present_tables(target, schema: str, names: list[str]) -> list[str]:
    """Those of ``names`` that ``schema`` already holds, in the order given."""
    with target.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = %s", (schema,)
        )
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name in present]


def _prologue(target, schema: str, prefix: str, replace: bool) -> str:
    """SQL run in the copy's transaction first: the schema, and with replace the old tables gone."""
    statements = [sql.SQL("create schema if not exists {}").format(sql.Identifier(schema))]
    if replace:
        statements += [
            sql.SQL("drop table if exists {} cascade").format(sql.Identifier(schema, prefix + name))
            # The optional tables too: a new dump without them must not leave the old rows.
            for name in REQUIRED_TABLES + OPTIONAL_TABLES
        ]
    return ";\n".join(statement.as_string(target) for statement in statements) + ";"


def _copy_tables(
    scratch: ConnectionInfo,
    info: ConnectionInfo,
    schema: str,
    tables: list[str],
    prologue: str,
    server_major: int,
) -> None:
    """Copy ``tables`` (with indexes and sequences) from scratch to target in one transaction."""
    pg_dump = find_tool("pg_dump", server_major=server_major)
    psql = find_tool("psql", server_major=server_major)
    dump_command = [str(pg_dump), "--no-owner", "--no-privileges", "--strict-names"]
    dump_command += [f"--table={schema}.{name}" for name in tables]
    load_command = [str(psql), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-c", prologue, "-f", "-"]
    with tempfile.TemporaryFile() as dump_errors:
        dumper = subprocess.Popen(
            dump_command, stdout=subprocess.PIPE, stderr=dump_errors, env=_client_env(scratch)
        )
        assert dumper.stdout is not None

        def dump_completed() -> None:
            if dumper.wait() != 0:
                dump_errors.seek(0)
                raise DumpLoadError(
                    "pg_dump of the restored tables failed: "
                    + _first_error_line(dump_errors.read().decode("utf-8", errors="replace"))
                )

        try:
            chunks = iter(partial(dumper.stdout.read, CHUNK_BYTES), b"")
            returncode, stderr = _run_psql_script(
                load_command, _client_env(info), chunks, dump_completed
            )
        finally:
            if dumper.poll() is None:
                dumper.kill()
                dumper.wait()
            dumper.stdout.close()
    if returncode != 0:
        raise DumpLoadError(
            f"copying the Moodle tables into {info.describe()} failed: {_first_error_line(stderr)}"
        )


def _run_psql_script(
    command: list[str],
    env: dict[str, str],
    chunks: Iterable[bytes],
    source_completed: Callable[[], None] = lambda: None,
) -> tuple[int, str]:
    """Feed ``chunks`` to psql's stdin; (exit status, stderr).

    psql sees the end of its input only after ``source_completed`` has not raised: with
    ``--single-transaction`` a failed source thus kills psql before it can commit.
    """
    with tempfile.TemporaryFile() as psql_errors:
        loader = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        assert loader.stdin is not None
        try:
            try:
                for chunk in chunks:
                    loader.stdin.write(chunk)
                source_completed()
            except BrokenPipeError:
                pass  # psql stopped early; its exit status and stderr say why
        except BaseException:
            loader.kill()
            loader.wait()
            raise
        with contextlib.suppress(BrokenPipeError):
            loader.stdin.close()
        returncode = loader.wait()
        psql_errors.seek(0)
        return returncode, psql_errors.read().decode("utf-8", errors="replace")


def _analyze(target, schema: str, tables: list[str]) -> None:
    """Fresh statistics, so the first dbt run plans well on the new tables."""
    with target.cursor() as cursor:
        for name in tables:
            cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, name)))


# ------------------------------------------------------------------ helpers


def _client_env(info: ConnectionInfo, *, scratch: bool = False) -> dict[str, str]:
    """Environment for the client programs: ``info`` wins over the user's libpq variables
    (SSL and other settings are kept). Into the scratch database, commits need not wait for
    the disk: thousands of small DDL commits are the slow part of restoring a whole site."""
    replaced = (*LIBPQ_VARIABLES, "PGSERVICE", "PGSERVICEFILE")
    env = {name: value for name, value in os.environ.items() if name not in replaced}
    env.update(info.libpq_env())
    env["PGAPPNAME"] = "moodle-analytics"
    env["LC_MESSAGES"] = "C"
    if scratch:
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c synchronous_commit=off").strip()
    return env


def _first_error_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "ERROR" in line or "error:" in line or "FATAL" in line:
            return line
    return lines[0] if lines else "no details"
