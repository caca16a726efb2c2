"""Loading real Moodle dumps: the 4.5 site in tests/data, and small dumps made here with pg_dump."""

from __future__ import annotations

import gzip
import socket
import subprocess
import uuid
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from psycopg2 import sql

from runner.moodle import dump_loader
from runner.moodle.dump_loader import DumpLoadError, check_moodle_tables, detect_format, load_dump
from runner.moodle.schema import (
    OPTIONAL_TABLES,
    REQUIRED_TABLES,
    create_schema,
    moodle_tables,
    physical_name,
)
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionError_, ConnectionInfo
from runner.postgres.pg_tools import find_tool

DATA = PROJECT_ROOT / "tests" / "data"
REAL_CUSTOM = DATA / "moodle45_real.dump"
REAL_PLAIN_GZ = DATA / "moodle45_real_20tables.sql.gz"

# tests/data/README.md, "Row counts (the 20 tables)".
REAL_ROW_COUNTS = {
    "mdl_logstore_standard_log": 17428,
    "mdl_context": 199,
    "mdl_user": 46,
    "mdl_course": 4,
    "mdl_modules": 24,
    "mdl_course_modules": 21,
    "mdl_course_modules_completion": 253,
    "mdl_grade_items": 9,
    "mdl_grade_grades": 129,
    "mdl_grade_categories": 3,
    "mdl_grade_items_history": 33,
    "mdl_grade_grades_history": 302,
    "mdl_grade_categories_history": 6,
    "mdl_forum": 6,
    "mdl_forum_discussions": 99,
    "mdl_forum_posts": 372,
    "mdl_role": 9,
    "mdl_role_assignments": 53,
    "mdl_enrol": 9,
    "mdl_user_enrolments": 53,
}

MakeDatabase = Callable[[str], ConnectionInfo]


@pytest.fixture(autouse=True)
def own_scratch_prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    """Scratch databases of this test only, so leftovers can be told from other sessions'."""
    prefix = f"ma_restore_t{uuid.uuid4().hex[:6]}_"
    monkeypatch.setattr(dump_loader, "SCRATCH_PREFIX", prefix)
    return prefix


def _rows(info: ConnectionInfo, statement: str | sql.Composed, *params: object) -> list[tuple]:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def _row_counts(info: ConnectionInfo, schema: str) -> dict[str, int]:
    counts = {}
    for table in REAL_ROW_COUNTS:
        statement = sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))
        counts[table] = _rows(info, statement)[0][0]
    return counts


def _schemas_with_moodle_tables(info: ConnectionInfo) -> set[str]:
    rows = _rows(
        info,
        "select distinct table_schema from information_schema.tables where table_name like 'mdl%%'",
    )
    return {row[0] for row in rows}


def _leftover_scratch(pg_server: ConnectionInfo, prefix: str) -> list[str]:
    rows = _rows(
        pg_server, "select datname from pg_database where starts_with(datname, %s)", prefix
    )
    return [row[0] for row in rows]


def _pg_dump(info: ConnectionInfo, output: Path, *options: str) -> Path:
    """A dump made by the real pg_dump, like a site administrator would."""
    server_major = _rows(info, "select current_setting('server_version_num')::int / 10000")[0][0]
    tool = find_tool("pg_dump", server_major=server_major)
    subprocess.run(
        [str(tool), *options, "--file", str(output)],
        env={**info.libpq_env(), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    return output


def _small_site(make_database: MakeDatabase, prefix: str = "mdl_") -> ConnectionInfo:
    """A Moodle schema as the installer makes it, a few rows, and no forum posts table."""
    site = make_database("site")
    connection = site.connect()
    create_schema(connection, "public", prefix)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "insert into {} (username, firstname, lastname, email, timecreated) values "
                "('ada', 'Ada', 'Achieng', 'ada@example.org', 1549267200), "
                "('ben', 'Ben', 'Banda', 'ben@example.org', 1549267260)"
            ).format(sql.Identifier(prefix + "user"))
        )
        cursor.execute(
            sql.SQL("insert into {} (fullname, shortname) values ('Data 101', 'DATA101')").format(
                sql.Identifier(prefix + "course")
            )
        )
        cursor.execute(sql.SQL("drop table {}").format(sql.Identifier(prefix + "forum_posts")))
    connection.commit()
    connection.close()
    return site


# ------------------------------------------------------------------ the real Moodle 4.5 site


def test_real_custom_dump_lands_complete_in_another_schema(
    make_database: MakeDatabase, pg_server: ConnectionInfo, own_scratch_prefix: str
) -> None:
    target = make_database("custom")
    report = load_dump(target, REAL_CUSTOM, schema="moodle_site")

    # The site's full dump holds the 6 optional tables too: they come along.
    every = len(REQUIRED_TABLES) + len(OPTIONAL_TABLES)
    assert (report.format, report.schema) == ("custom", "moodle_site")
    assert report.tables_restored == every
    assert report.missing_tables == [] and report.warnings == []
    assert report.seconds > 0
    assert _row_counts(target, "moodle_site") == REAL_ROW_COUNTS
    assert check_moodle_tables(target, "moodle_site", "mdl_") == []
    # Only the tables the project reads came over, and nothing landed in public.
    assert _schemas_with_moodle_tables(target) == {"moodle_site"}
    tables = _rows(target, "select count(*) from pg_tables where schemaname = 'moodle_site'")
    assert tables == [(every,)]
    assert _leftover_scratch(pg_server, own_scratch_prefix) == []

    # Moodle's indexes and primary keys came along, under Moodle's own names.
    tables_read = list(moodle_tables().values())
    expected_indexes = {physical_name(table.primary_key_name, "mdl_") for table in tables_read}
    expected_indexes |= {
        physical_name(index.name, "mdl_") for table in tables_read for index in table.indexes
    }
    indexes = _rows(target, "select indexname from pg_indexes where schemaname = 'moodle_site'")
    assert {row[0] for row in indexes} == expected_indexes

    # The id sequences came along too, set past the site's last id.
    new_id = _rows(
        target,
        "insert into moodle_site.mdl_user (username) values ('newcomer') returning id",
    )[0][0]
    assert (
        new_id
        > _rows(target, "select max(id) from moodle_site.mdl_user where username <> 'newcomer'")[0][
            0
        ]
    )


def test_real_plain_gz_dump_lands_complete_in_another_schema(make_database: MakeDatabase) -> None:
    target = make_database("plaingz")
    report = load_dump(target, REAL_PLAIN_GZ, schema="moodle_site")

    assert (report.format, report.tables_restored, report.missing_tables) == ("plain-gz", 20, [])
    assert _row_counts(target, "moodle_site") == REAL_ROW_COUNTS
    assert _schemas_with_moodle_tables(target) == {"moodle_site"}
    # Real values survive the trip: the log-in-as row of the README.
    loggedinas = _rows(
        target,
        "select userid, realuserid, courseid from moodle_site.mdl_logstore_standard_log "
        "where eventname = '\\core\\event\\user_loggedinas'",
    )
    assert loggedinas == [(2, 2, 0)]


def test_existing_tables_are_never_clobbered_without_replace(make_database: MakeDatabase) -> None:
    target = make_database("clobber")
    connection = target.connect()
    create_schema(connection, "moodle_site", "mdl_")
    with connection.cursor() as cursor:
        cursor.execute("insert into moodle_site.mdl_user (username) values ('precious')")
    connection.commit()
    connection.close()

    with pytest.raises(DumpLoadError) as refusal:
        load_dump(target, REAL_CUSTOM, schema="moodle_site")
    message = str(refusal.value)
    assert "\n" not in message
    assert "already holds mdl_logstore_standard_log, mdl_context, mdl_user," in message
    assert _rows(target, "select username from moodle_site.mdl_user") == [("precious",)]

    report = load_dump(target, REAL_CUSTOM, schema="moodle_site", replace=True)
    assert report.missing_tables == []
    # The optional tables the old schema had were replaced by the dump's own.
    assert _rows(target, "select count(*) from pg_tables where schemaname = 'moodle_site'") == [
        (len(REQUIRED_TABLES) + len(OPTIONAL_TABLES),)
    ]
    assert _row_counts(target, "moodle_site") == REAL_ROW_COUNTS
    assert _rows(
        target, "select count(*) from moodle_site.mdl_user where username = 'precious'"
    ) == [(0,)]


def test_refusal_names_exactly_the_tables_in_the_way(make_database: MakeDatabase) -> None:
    target = make_database("partial")
    _rows(target, "create schema moodle_site; create table moodle_site.mdl_forum_posts (id bigint)")

    with pytest.raises(DumpLoadError, match=r"already holds mdl_forum_posts: refusing"):
        load_dump(target, REAL_PLAIN_GZ, schema="moodle_site")
    assert _schemas_with_moodle_tables(target) == {"moodle_site"}
    assert _rows(target, "select count(*) from pg_tables where schemaname = 'moodle_site'") == [
        (1,)
    ]


# ------------------------------------------------------------------ dumps made here


@pytest.mark.parametrize(
    ("options", "expected_format"),
    [(("--format=custom",), "custom"), (("--format=plain",), "plain")],
)
def test_a_missing_required_table_is_named(
    make_database: MakeDatabase,
    tmp_path: Path,
    options: tuple[str, ...],
    expected_format: str,
) -> None:
    site = _small_site(make_database)
    # Ownership and grants of the site's own roles must not break the restore.
    site_role = f"ma_test_site_owner_{uuid.uuid4().hex[:6]}"
    _rows(site, sql.SQL("create role {}").format(sql.Identifier(site_role)))
    try:
        _rows(site, sql.SQL("alter table mdl_user owner to {}").format(sql.Identifier(site_role)))
        _rows(site, sql.SQL("grant select on mdl_course to {}").format(sql.Identifier(site_role)))
        dump = _pg_dump(site, tmp_path / "site.dump", *options)
        _rows(site, sql.SQL("drop owned by {} cascade").format(sql.Identifier(site_role)))
    finally:
        _rows(site, sql.SQL("drop role if exists {}").format(sql.Identifier(site_role)))
    assert site_role in (dump.read_bytes().decode("utf-8", errors="replace"))

    target = make_database("small")
    report = load_dump(target, dump, schema="moodle_site")

    assert report.format == expected_format
    assert report.warnings == []  # the site's role was never needed
    assert report.missing_tables == ["mdl_forum_posts"]
    # The site has the optional tables (as the installer makes them): they come along.
    assert report.tables_restored == len(REQUIRED_TABLES) - 1 + len(OPTIONAL_TABLES)
    assert check_moodle_tables(target, "moodle_site", "mdl_") == ["mdl_forum_posts"]
    users = _rows(target, "select username, email from moodle_site.mdl_user order by id")
    assert users == [("ada", "ada@example.org"), ("ben", "ben@example.org")]
    assert _rows(target, "select shortname from moodle_site.mdl_course") == [("DATA101",)]


def test_another_prefix_is_loaded_and_a_wrong_one_is_explained(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    site = _small_site(make_database, prefix="m45_")
    dump = _pg_dump(site, tmp_path / "site.sql.gz.tmp", "--format=plain")
    gz = tmp_path / "site.sql.gz"
    gz.write_bytes(gzip.compress(dump.read_bytes()))

    target = make_database("prefix")
    with pytest.raises(
        DumpLoadError, match=r"it has m45_logstore_standard_log: is the prefix 'm45_'\?"
    ):
        load_dump(target, gz, schema="moodle_site")
    assert _rows(target, "select count(*) from pg_namespace where nspname = 'moodle_site'") == [
        (0,)
    ]

    report = load_dump(target, gz, schema="moodle_site", prefix="m45_")
    assert (report.format, report.missing_tables) == ("plain-gz", ["m45_forum_posts"])
    assert _rows(target, "select count(*) from moodle_site.m45_user") == [(2,)]


def test_a_dump_that_creates_its_database_is_refused(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    site = _small_site(make_database)
    dump = _pg_dump(site, tmp_path / "create.sql", "--format=plain", "--create")

    target = make_database("create")
    with pytest.raises(DumpLoadError, match="without --create"):
        load_dump(target, dump, schema="moodle_site")
    assert _schemas_with_moodle_tables(target) == set()


# ------------------------------------------------------------------ bad input


def _truncated(source: Path, keep: int, path: Path) -> Path:
    path.write_bytes(source.read_bytes()[:keep])
    return path


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda d: d / "absent.dump", "dump file not found"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "noise.dump", bytes(range(256)) * 40), "is not a PostgreSQL dump"),
        (lambda d: _write(d / "notes.sql", b"select 1;\n"), "is not a PostgreSQL dump"),
        (
            lambda d: _write(d / "notes.sql.gz", gzip.compress(b"hello\n")),
            "is not a PostgreSQL dump",
        ),
        (lambda d: _write(d / "broken.gz", b"\x1f\x8b\x08garbage"), "is not a readable gzip file"),
        (
            lambda d: _truncated(REAL_CUSTOM, 1_500_000, d / "cut.dump"),
            "is not a readable pg_dump archive",
        ),
        (lambda d: _truncated(REAL_PLAIN_GZ, 200_000, d / "cut.sql.gz"), "cannot read"),
    ],
    ids=[
        "missing",
        "folder",
        "noise",
        "not-a-dump",
        "gz-not-a-dump",
        "bad-gzip",
        "cut-custom",
        "cut-gz",
    ],
)
def test_bad_files_give_one_line_and_change_nothing(
    make_database: MakeDatabase,
    pg_server: ConnectionInfo,
    own_scratch_prefix: str,
    tmp_path: Path,
    make_file: Callable[[Path], Path],
    message: str,
) -> None:
    target = make_database("bad")
    dump = make_file(tmp_path)

    with pytest.raises(DumpLoadError) as failure:
        load_dump(target, dump, schema="moodle_site")
    assert message in str(failure.value)
    assert "\n" not in str(failure.value)
    assert _rows(target, "select count(*) from pg_namespace where nspname = 'moodle_site'") == [
        (0,)
    ]
    assert _schemas_with_moodle_tables(target) == set()
    assert _leftover_scratch(pg_server, own_scratch_prefix) == []


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("schema", "prefix", "message"),
    [
        ("moodle; drop table x", "mdl_", "is not a plain identifier"),
        ('"quoted"', "mdl_", "is not a plain identifier"),
        ("moodle_site", "MDL-", "table prefix 'MDL-' is not valid"),
    ],
)
def test_schema_and_prefix_are_validated(
    make_database: MakeDatabase, schema: str, prefix: str, message: str
) -> None:
    target = make_database("names")
    with pytest.raises(DumpLoadError, match=message):
        load_dump(target, REAL_PLAIN_GZ, schema=schema, prefix=prefix)
    with pytest.raises(DumpLoadError, match=message):
        check_moodle_tables(target, schema, prefix)


def test_formats_are_told_apart_by_content(tmp_path: Path) -> None:
    assert detect_format(REAL_CUSTOM) == "custom"
    assert detect_format(REAL_PLAIN_GZ) == "plain-gz"
    plain = tmp_path / "named.dump"  # the name does not matter, the bytes do
    plain.write_bytes(gzip.decompress(REAL_PLAIN_GZ.read_bytes())[:100_000])
    assert detect_format(plain) == "plain"


def test_check_reports_every_table_of_an_empty_schema(empty_database: ConnectionInfo) -> None:
    assert check_moodle_tables(empty_database, "public", "mdl_") == [
        "mdl_" + name for name in REQUIRED_TABLES
    ]


def test_unreachable_target_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionError_, match=r"unreachable at 127\.0\.0\.1"):
        load_dump(ConnectionInfo("127.0.0.1", port, "postgres", "x"), REAL_PLAIN_GZ, schema="s")


def _insert_after(text: str, marker_start: str, new_line: str) -> str:
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(marker_start))
    return "".join([*lines[: at + 1], new_line, *lines[at + 1 :]])


def test_bad_rows_in_a_required_table_fail_but_other_tables_are_not_even_read(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    site = _small_site(make_database)
    _rows(site, "create table mdl_config (id bigserial primary key, name text, value text)")
    _rows(site, "insert into mdl_config (name, value) values ('version', '2024100705.01')")
    text = _pg_dump(site, tmp_path / "site.sql", "--format=plain").read_text()
    # Rows another site plugin mangled: not a table the project reads, so never loaded.
    text = _insert_after(text, "COPY public.mdl_config ", "not-a-number\tbroken\trow\n")

    good = tmp_path / "good.sql"
    good.write_text(text)
    target = make_database("rows")
    report = load_dump(target, good, schema="moodle_site")
    assert report.warnings == [] and report.missing_tables == ["mdl_forum_posts"]
    assert _rows(target, "select count(*) from moodle_site.mdl_course") == [(1,)]

    bad = tmp_path / "bad.sql"
    bad.write_text(_insert_after(text, "COPY public.mdl_course ", "not-a-number\n"))
    other = make_database("rows")
    with pytest.raises(DumpLoadError, match=r"failed for mdl_course: .*invalid input syntax"):
        load_dump(other, bad, schema="moodle_site")
    assert _schemas_with_moodle_tables(other) == set()


def test_plain_filter_keeps_row_data_that_looks_like_sql() -> None:
    dump = b"".join(
        [
            b"CREATE TABLE public.mdl_forum_posts (id bigint, message text);\n",
            b"ALTER TABLE public.mdl_forum_posts OWNER TO moodle_site_owner;\n",
            b"GRANT SELECT ON TABLE public.mdl_forum_posts TO reporting;\n",
            b"COPY public.mdl_forum_posts (id, message) FROM stdin;\n",
            b"GRANT ALL\tto the learners\n",
            b"\\.\n",
            b"COPY public.mdl_sessions (id, sessdata) FROM stdin;\n",
            b"1\tsecret session data\n",
            b"\\.\n",
        ]
    )
    kept = b"".join(dump_loader._plain_sql(BytesIO(dump), Path("x.sql"), {"mdl_forum_posts"}))
    assert kept == (
        b"CREATE TABLE public.mdl_forum_posts (id bigint, message text);\n"
        b"COPY public.mdl_forum_posts (id, message) FROM stdin;\n"
        b"GRANT ALL\tto the learners\n"
        b"\\.\n"
    )
