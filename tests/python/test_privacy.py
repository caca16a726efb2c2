"""Personal data stays out of the marts, and the runner writes no secret to a file.

The marts are what Tableau and the reporting role read. With the project's defaults
(include_personal_data false) no mart column may carry names, usernames, e-mail or IP
addresses, phone numbers or free text (the log's `other`, forum subjects and messages, grade
feedback, profile descriptions). Checked two ways over every column information_schema lists
in `mart`: by what the column is (its name and type), and by what it holds (its values matched
against e-mail, IP and phone patterns and serialised data, and compared with every personal
value the generated Moodle site stores).

The runner is then run with PGPASSWORD set to a unique marker through build, export and docs,
and every file it wrote (profile, dbt target and logs, exports, docs site, .tds when written)
is searched for the marker.
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from psycopg2 import sql
from support.cli_helpers import password_marker
from support.reliability_support import MART_SCHEMA, cli_environment, run_cli

from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo

pytest_plugins = ["support.reliability_fixtures"]

# Column names that say "personal data" (matched on text-like columns: `email_count` bigint
# is a measure, `email` text is an address).
PERSONAL_COLUMN = re.compile(
    r"""(?x)(^|_)(
        (first|last|middle|alternate|given|family)_?name | user_?name | login_?name
        | e_?mail | phone\d? | mobile | (last_?)?ip | ip_?address | address | city | country
        | institution | department | id_?number | password | description | other | other_raw
        | message | subject | feedback | note | comment | post_text | body
    )($|_)"""
)
# Types that carry addresses or arbitrary documents whatever the column's name.
PERSONAL_TYPES = {"inet", "cidr", "macaddr", "json", "jsonb", "bytea"}
TEXT_TYPES = {"text", "character varying", "character", "USER-DEFINED", "ARRAY"}

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
IPV4_CANDIDATE = re.compile(r"(?<![\w.])(\d{1,3}(\.\d{1,3}){3})(?![\w.])")
IPV6_CANDIDATE = re.compile(r"(?i)(?<![\w:])([0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7})(?![\w:])")
PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
SERIALISED = re.compile(r"^\s*(\{.*\}|\[.*\]|[aOs]:\d+:.*|N;)\s*$", re.DOTALL)

# Personal values the Moodle site stores, compared with every mart text value. Moodle's
# built-in guest account (id 1: 'guest', 'Guest user', 'root@localhost') is not a person.
PERSONAL_VALUE_QUERIES = (
    "select unnest(array[username, firstname, lastname, email, phone1, phone2, lastip, "
    "idnumber, address, city, institution, department, description, "
    "firstname || ' ' || lastname]) from mdl_user where id <> 1",
    "select unnest(array[subject, message]) from mdl_forum_posts",
    "select name from mdl_forum_discussions",
    "select feedback from mdl_grade_grades",
    "select unnest(array[ip, other]) from mdl_logstore_standard_log",
)
SAMPLE_VALUES_PER_COLUMN = 20000


def is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def personal_patterns(value: str) -> list[str]:
    """The kinds of personal data ``value`` looks like (empty when none)."""
    found = []
    if EMAIL.search(value):
        found.append("e-mail address")
    candidates = [m.group(1) for m in IPV4_CANDIDATE.finditer(value)]
    candidates += [m.group(1) for m in IPV6_CANDIDATE.finditer(value)]
    if any(is_ip_address(candidate) for candidate in candidates):
        found.append("IP address")
    digits = sum(character.isdigit() for character in value)
    if PHONE.match(value) and digits >= 7 and not ISO_DATE.match(value):
        found.append("phone number")
    if SERIALISED.match(value):
        found.append("serialised data (free text such as the log's `other`)")
    return found


def mart_columns(info: ConnectionInfo) -> list[tuple[str, str, str]]:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = %s order by table_name, ordinal_position",
                (MART_SCHEMA,),
            )
            return cursor.fetchall()
    finally:
        connection.close()


def personal_values(info: ConnectionInfo) -> set[str]:
    values: set[str] = set()
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            for query in PERSONAL_VALUE_QUERIES:
                cursor.execute(query)
                values.update(
                    value.strip() for (value,) in cursor.fetchall() if value and value.strip()
                )
    finally:
        connection.close()
    # Two letters (a country code) or a lone 'N;' say nothing about a person.
    return {value for value in values if len(value) >= 3}


def text_values(info: ConnectionInfo, table: str, column: str) -> Iterator[str]:
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "select distinct {column}::text from {table} "
                    "where {column} is not null limit %s"
                ).format(column=sql.Identifier(column), table=sql.Identifier(MART_SCHEMA, table)),
                (SAMPLE_VALUES_PER_COLUMN,),
            )
            for (value,) in cursor.fetchall():
                yield value
    finally:
        connection.close()


def personal_data_in_marts(info: ConnectionInfo) -> list[str]:
    """Every mart column that carries personal data, with the reason, in words."""
    problems = []
    columns = mart_columns(info)
    assert len({table for table, _, _ in columns}) >= 5, columns
    known = personal_values(info)
    assert len(known) > 100, "the site holds too little personal data to test against"
    for table, column, data_type in columns:
        where = f"mart.{table}.{column} ({data_type})"
        if data_type in PERSONAL_TYPES:
            problems.append(f"{where}: a {data_type} column can hold addresses or documents")
            continue
        if data_type not in TEXT_TYPES:
            continue
        if PERSONAL_COLUMN.search(column):
            problems.append(f"{where}: the name says personal data")
        for value in text_values(info, table, column):
            kinds = personal_patterns(value)
            if value.strip() in known:
                kinds.append("a value stored in Moodle's personal data")
            if kinds:
                problems.append(f"{where} holds {value[:60]!r}: {', '.join(kinds)}")
                break
    return problems


def test_no_mart_column_carries_personal_data(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
) -> None:
    database = copy_database(built_warehouse, "privacy")
    assert personal_data_in_marts(database) == []


def test_the_check_finds_personal_data_copied_into_a_mart(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
) -> None:
    """The check itself: each way personal data could slip into a mart is caught."""
    database = copy_database(built_warehouse, "privacy_leak")
    connection = database.connect(autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "create table mart.leaky as select u.id as user_id, "
            "u.email as contact, u.lastip as seen_from, u.phone1 as reach, "
            "u.firstname as label, u.lastname as surname_text, "
            '\'{"username":"x"}\'::text as extra, null::inet as client '
            "from mdl_user as u where u.id > 2 and u.phone1 <> '' limit 20"
        )
    connection.close()
    problems = "\n".join(personal_data_in_marts(database))
    for column, reason in (
        ("contact", "e-mail address"),
        ("seen_from", "IP address"),
        ("reach", "phone number"),
        ("label", "personal data"),
        ("surname_text", "personal data"),
        ("extra", "serialised data"),
        ("client", "inet column"),
    ):
        assert re.search(rf"mart\.leaky\.{column} .*{reason}", problems), (column, problems)


# --- secrets ----------------------------------------------------------------------------------

# Not written by these commands: version control, the virtualenv, the embedded server's data.
NOT_SCANNED = ((".git",), (".venv",), ("node_modules",), (".runtime", "postgres"))


def files_under(folder: Path) -> Iterator[Path]:
    for root, directories, files in os.walk(folder):
        parts = Path(root).relative_to(folder).parts
        directories[:] = [name for name in directories if (*parts, name) not in NOT_SCANNED]
        yield from (Path(root) / name for name in files)


def written_since(folder: Path, since: float) -> Iterator[Path]:
    for path in files_under(folder):
        try:
            if path.stat().st_mtime >= since:
                yield path
        except OSError:  # removed meanwhile by someone else's process
            continue


def holds(path: Path, secret: bytes) -> bool:
    try:
        return secret in path.read_bytes()
    except FileNotFoundError:  # another engineer's temporary file, gone since
        return False


def test_the_runner_writes_no_password_to_any_file(
    built_warehouse: ConnectionInfo,
    copy_database: Callable[[ConnectionInfo, str], ConnectionInfo],
    tmp_path: Path,
) -> None:
    database = copy_database(built_warehouse, "secrets")
    marker = password_marker(database, f"pw-{uuid.uuid4().hex}")
    env = cli_environment(database, tmp_path, PGPASSWORD=marker)
    exports = tmp_path / "exports"
    started = time.time() - 1

    outputs = []
    for args in (
        ["build", "--select", "dim_date"],
        ["export", "--out", str(exports)],
        ["docs", "--out", str(exports / "docs")],
    ):
        result = run_cli(args, env)
        assert result.returncode == 0, (args, result.stderr[-3000:])
        outputs.append(result.stdout + result.stderr)

    written = list(files_under(tmp_path))
    # Files anywhere in the repository written meanwhile (a path the runner chose itself).
    written += [path for path in files_under(PROJECT_ROOT) if path.stat().st_mtime >= started]
    names = {path.name for path in written}
    assert {"profiles.yml", "manifest.json", "dbt.log", "index.html"} <= names, names
    assert len(list(exports.rglob("*.csv"))) > 3

    leaking = [path for path in written if holds(path, marker.encode())]
    assert leaking == []
    assert not any(marker in text for text in outputs)
