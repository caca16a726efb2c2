"""build, export, docs, check and demo end to end on one database built once for the module."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.cli_helpers import (
    HeadlessChromium,
    chromium_binary,
    cli_env,
    invoke,
    load_moodle_data,
    password_marker,
)

from runner.dbt.build_lock import build_lock
from runner.paths import PROJECT_ROOT
from runner.postgres.connection import ConnectionInfo
from runner.publishing.export import METRICS, TIERS, export_marts, top_tier_file_name

pytestmark = pytest.mark.slow


@dataclass
class Built:
    info: ConnectionInfo
    env: dict[str, str]
    work: Path
    build: dict[str, Any]
    source: str
    build_log: str  # the build's progress lines (stderr)


@pytest.fixture(scope="module")
def built(make_database, tmp_path_factory) -> Built:
    info = make_database("cli_built")
    source = load_moodle_data(info)
    work = tmp_path_factory.mktemp("cli_built")
    env = cli_env(info, work)
    result = invoke(["build", "--json"], env)
    assert result.exit_code == 0, result.stderr
    return Built(info, env, work, json.loads(result.stdout), source, result.stderr)


def query(info: ConnectionInfo, statement: str, parameters: tuple = ()) -> list[tuple]:
    connection = info.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its sha256."""
    return {
        str(path.relative_to(folder)): sha256_of(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def mart_names(info: ConnectionInfo) -> list[str]:
    rows = query(
        info,
        "select table_name from information_schema.tables where table_schema = 'mart' order by 1",
    )
    return [row[0] for row in rows]


# --- build -------------------------------------------------------------------------------


# The models whose tests read the whole log on every run (staging's log's tests read the rows
# a night added, so they stay in the nightly run).
WHOLE_LOG_MODELS = ("model.moodle_analytics.archive_moodle__logstore_standard_log",)


def left_to_the_full_check(node: dict) -> bool:
    """A test the default (nightly) selector leaves out: selectors.yml."""
    return node["resource_type"] == "test" and (
        "full_check" in node["tags"]
        or (
            any(model in node["depends_on"]["nodes"] for model in WHOLE_LOG_MODELS)
            # The archive's warning that Moodle lost log rows is the nightly's to give.
            and node["name"] != "archived_log_rows_no_longer_in_moodle"
        )
    )


def test_build_runs_every_nightly_node_of_the_project_and_releases_the_lock(built):
    manifest = json.loads((built.work / "target" / "manifest.json").read_text())
    # What a plain dbt build runs (selectors.yml's default): models, tests, seeds, snapshots,
    # the project's hooks (operations), and exposures (visited, no SQL: dbt's "no-op"); not
    # the unit tests nor the whole-log tests, which the full check runs.
    runnable = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "test", "seed", "snapshot", "operation")
        and not left_to_the_full_check(node)
    ]
    assert any(left_to_the_full_check(node) for node in manifest["nodes"].values())
    exposures = len(manifest.get("exposures", {}))
    # The project's hooks run outside dbt's node count.
    operations = sum(1 for node in runnable if node["resource_type"] == "operation")
    expected = len(runnable) + exposures
    counts = built.build["counts"]
    assert built.build["ok"] is True
    assert counts["failed"] == 0 and built.build["failed_nodes"] == []
    assert counts["total"] == expected
    assert counts["passed"] + counts["warned"] == expected - exposures
    assert counts["no_op"] == exposures
    # The progress announces the count it then counts to.
    announced = [line for line in built.build_log.splitlines() if line.startswith("dbt build: ")]
    assert announced == [f"dbt build: {expected - operations} nodes"], announced
    steps = re.findall(r"^  \[(\d+)/(\d+)\]", built.build_log, flags=re.MULTILINE)
    assert len(steps) == expected - operations
    assert {int(total) for _, total in steps} == {expected - operations}
    assert {"dim_user", "fact_activity", "fact_session", "learner_tiers"} <= set(
        mart_names(built.info)
    )
    # The advisory lock went with the build: a new build may take it at once.
    with build_lock(built.info):
        pass


def test_check_passes_on_a_built_database(built):
    result = invoke(["check", "--json"], built.env)
    assert result.exit_code == 0, result.stdout
    checks = {item["name"]: item["status"] for item in json.loads(result.stdout)["checks"]}
    assert checks["database"] == "ok"
    assert checks["moodle tables"] == "ok"
    assert checks["marts"] == "ok"


# --- export ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(built) -> tuple[Path, dict[str, Any]]:
    out = built.work / "exports"
    result = invoke(["export", "--out", str(out), "--json"], built.env)
    assert result.exit_code == 0, result.stderr
    return out, json.loads(result.stdout)


def test_export_writes_every_file_the_manifest_lists(built, exported):
    out, report = exported
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == report["files"]
    tables = mart_names(built.info)
    expected = {top_tier_file_name(metric, pct) for metric in METRICS for pct in TIERS}
    expected |= {f"mart/{table}.{kind}" for table in tables for kind in ("csv", "parquet")}
    assert {entry["name"] for entry in manifest["files"]} == expected
    on_disk = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert on_disk == expected | {"manifest.json"}  # no temporary file left behind

    for entry in manifest["files"]:
        path = out / entry["name"]
        assert path.stat().st_size == entry["bytes"]
        assert sha256_of(path) == entry["sha256"]
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                assert sum(1 for _ in csv.reader(handle)) - 1 == entry["rows"]
        else:
            assert pq.ParquetFile(path).metadata.num_rows == entry["rows"]
    for table in tables:
        (count,) = query(built.info, f'select count(*) from mart."{table}"')[0]
        rows = {entry["name"]: entry["rows"] for entry in manifest["files"]}
        assert rows[f"mart/{table}.csv"] == rows[f"mart/{table}.parquet"] == count


def test_top_tier_files_hold_exactly_the_learners_of_learner_tiers(built, exported):
    out, _ = exported
    (learners,) = query(built.info, "select count(distinct user_id) from mart.learner_tiers")[0]
    # A file per metric the mart ranks, the learner-reflecting ones included.
    ranked = query(built.info, "select distinct metric from mart.learner_tiers")
    assert sorted(METRICS) == sorted(metric for (metric,) in ranked)
    for metric in METRICS:
        for pct in TIERS:
            members = query(
                built.info,
                f"select user_id, metric_value, metric_rank from mart.learner_tiers "
                f"where metric = %s and in_top_{pct}_pct order by metric_rank, user_id",
                (metric,),
            )
            with (out / top_tier_file_name(metric, pct)).open(newline="") as handle:
                rows = list(csv.reader(handle))
            assert rows[0] == ["user_id", "metric_value", "metric_rank"]
            assert [tuple(int(float(v)) for v in row) for row in rows[1:]] == [
                (user, int(value), rank) for user, value, rank in members
            ]
            bound = math.ceil(pct / 100 * learners)
            assert all(int(row[2]) <= bound and float(row[1]) > 0 for row in rows[1:])
    # Nested tiers: the top 1 % of a metric is inside its top 25 %.
    for metric in METRICS:
        with (
            (out / top_tier_file_name(metric, 1)).open() as small,
            (out / top_tier_file_name(metric, 25)).open() as large,
        ):
            assert {line.split(",")[0] for line in small} <= {line.split(",")[0] for line in large}


def test_export_of_unchanged_data_is_byte_identical(built, exported):
    _out, report = exported
    again = built.work / "exports_again"
    result = invoke(["export", "--out", str(again), "--json", "--quiet"], built.env)
    assert result.exit_code == 0, result.stderr
    second = json.loads(result.stdout)
    assert [(f["name"], f["sha256"]) for f in second["files"]] == [
        (f["name"], f["sha256"]) for f in report["files"]
    ]


def test_interrupted_export_leaves_the_previous_export_intact(built, exported, tmp_path):
    out = tmp_path / "exports"
    export_marts(built.info, out)
    before = folder_state(out)

    def interrupt(name: str, rows: int) -> None:
        if name == "mart/fact_activity.parquet" and rows > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_marts(built.info, out, chunk_rows=100, progress=interrupt)
    assert folder_state(out) == before  # nothing replaced, no temporary file left


def test_killed_export_leaves_no_partial_file_under_a_final_name(built, exported, tmp_path):
    out = tmp_path / "exports"
    export_marts(built.info, out)
    before = folder_state(out)
    info = built.info
    script = f"""
import os, signal
from pathlib import Path
from runner.postgres.connection import ConnectionInfo
from runner.publishing.export import export_marts

def die(name, rows):
    if name == "mart/fact_activity.parquet" and rows >= 200:
        os.kill(os.getpid(), signal.SIGKILL)

info = ConnectionInfo({info.host!r}, {info.port}, {info.user!r}, {info.dbname!r})
export_marts(info, Path({str(out)!r}), chunk_rows=100, progress=die)
"""
    killed = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()

    after = folder_state(out)
    leftovers = sorted(set(after) - set(before))
    # Killed mid-file: the half-written Parquet exists, but only under its temporary name.
    assert any(name.startswith("mart/.fact_activity.parquet.") for name in leftovers), leftovers
    assert all(Path(name).name.startswith(".") and name.endswith(".partial") for name in leftovers)
    assert {name: after[name] for name in before} == before

    # The next export sweeps the dead process's temporary files and completes.
    export_marts(built.info, out)
    assert not list(out.rglob("*.partial"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(sha256_of(out / f["name"]) == f["sha256"] for f in manifest["files"])


# --- docs --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs_page(built) -> Path:
    result = invoke(["docs", "--out", str(built.work / "docs"), "--json"], built.env)
    assert result.exit_code == 0, result.stderr
    page = Path(json.loads(result.stdout)["path"])
    assert page == built.work / "docs" / "index.html"
    return page


def test_docs_page_is_one_file_with_tracking_off(docs_page):
    html = docs_page.read_text(encoding="utf-8")
    assert list(docs_page.parent.iterdir()) == [docs_page]
    assert '"send_anonymous_usage_stats": false' in html
    assert '"send_anonymous_usage_stats": true' not in html
    assert "sinter-collect.com" not in html
    assert "cloudfront.net" not in html
    assert "turn_on_tracking()" not in html  # the call is gone; the function itself may stay


def test_docs_start_page_is_the_projects_overview(built, docs_page):
    """Not dbt's generic "Welcome!": what the warehouse is, where to begin, the definitions."""
    manifest = json.loads((built.work / "target" / "manifest.json").read_text())
    overview = manifest["docs"]["doc.moodle_analytics.__overview__"]["block_contents"]
    for heading in ("## What the warehouse is", "## Where to begin", "## The definitions"):
        assert heading in overview
    for name in ("fact_learner_week", "learner_tiers", "dim_user", "**Session**", "**Tier**"):
        assert name in overview
    assert "Where to begin" in docs_page.read_text(encoding="utf-8")


PAINTED_PIXELS = """(() => {
  const canvas = document.querySelector('canvas[data-id="layer2-node"]');
  if (!canvas || !canvas.width) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
})()"""
CELL_TEXTS = "Array.from(document.querySelectorAll('td')).map(e => e.innerText.trim())"


def test_docs_render_lineage_and_column_descriptions_offline_in_chromium(
    built, docs_page, tmp_path
):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    manifest = json.loads((built.work / "target" / "manifest.json").read_text())
    model = manifest["nodes"]["model.moodle_analytics.learner_tiers"]
    plain = {
        name: " ".join(column["description"].split())
        for name, column in model["columns"].items()
        if column["description"] and not any(mark in column["description"] for mark in "`*[]#")
    }
    assert len(plain) >= 3, "learner_tiers should describe its columns"

    browser = HeadlessChromium(binary, tmp_path / "chromium-profile")
    try:
        browser.open(docs_page.as_uri() + "#!/model/model.moodle_analytics.learner_tiers?g_v=1")
        painted = browser.wait_for(PAINTED_PIXELS)
        assert painted and painted > 500, "the lineage graph drew no nodes"
        cells = browser.wait_for(f"{CELL_TEXTS}.length > 0 && {CELL_TEXTS}")
        rendered = {" ".join(text.split()) for text in cells}
        for name, description in plain.items():
            assert name in rendered, name
            assert description in rendered, (name, description)
        schemes = {url.split(":", 1)[0] for url in browser.requested_urls()}
        assert schemes <= {"file", "data", "about", "blob"}, schemes
    finally:
        browser.close()


def test_docs_serve_answers_on_localhost(built, docs_page):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runner.cli.commands",
            "docs",
            "--out",
            str(docs_page.parent),
            "--serve",
            "--port",
            "0",
        ],
        cwd=PROJECT_ROOT,
        # Should it not stop, SIGABRT makes it print where each of its threads is.
        env={**os.environ, **built.env, "PYTHONFAULTHANDLER": "1"},
        # Started with SIGINT ignored, as a script's background job is (and as a test worker's
        # child once was): Ctrl-C must stop it all the same.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        for line in process.stderr:
            if line.startswith("Serving http://127.0.0.1:"):
                url = line.split()[1]
                break
        assert url, "the server never said where it listens"
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            assert response.status == 200
            assert response.read() == docs_page.read_bytes()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(10)
            pytest.fail(f"Ctrl-C did not stop the server within 60 s:\n{process.stderr.read()}")
    assert code == 0, process.stderr.read()


# --- demo --------------------------------------------------------------------------------


def test_demo_reuses_existing_moodle_tables_and_summarises(built):
    out = built.work / "demo"
    result = invoke(["demo", "--out", str(out), "--json"], built.env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["generated"] is False
    assert report["tableau"] == {
        "server": built.info.host,
        "port": built.info.port,
        "database": built.info.dbname,
        "user": built.info.user,
        "schema": "mart",
    }
    # No password field, and no password: the next steps only say how to get one.
    document = json.dumps(report)
    assert not re.search(r'"password[^"]*"\s*:', document)
    assert password_marker(built.info, "no password in use") not in document
    marts = {mart["table"]: mart["rows"] for mart in report["marts"]}
    assert list(marts) == mart_names(built.info)
    for table, rows in marts.items():
        assert query(built.info, f'select count(*) from mart."{table}"')[0][0] == rows
    assert report["build"]["counts"]["failed"] == 0
    assert Path(report["exports"]["manifest"]).is_file()
    assert Path(report["docs"]["path"]) == out / "docs" / "index.html"
    assert [step["step"] for step in report["steps"]] == [
        "database",
        "moodle data",
        "build",
        "export",
        "docs",
        "tableau",
    ]
    # The demo writes the Tableau data sources its next steps point to.
    tds = [Path(path) for path in report["tableau_sources"]["files"]]
    assert out / "tableau" / "fact_learner_week.tds" in tds and all(p.is_file() for p in tds)
    assert any(str(out / "tableau" / "fact_learner_week.tds") in s for s in report["next_steps"])
    assert any("db reporting-login" in step for step in report["next_steps"])
    # The dashboard workbook too, named first in the Tableau step.
    workbook = out / "tableau" / "learner_progress.twb"
    assert report["tableau_workbook"] == str(workbook) and workbook.is_file()
    assert any(f"the dashboard {workbook}" in step for step in report["next_steps"])
    # Each warning by name, as many as the build counted.
    assert len(report["warnings"]) == report["build"]["counts"]["warned"]
    assert all(item["test"] and item["reason"] for item in report["warnings"])

    # Progress went to stderr, step by step; stdout held only the JSON document.
    for step in ("database", "moodle data", "build", "export", "docs", "tableau"):
        assert f"→ {step}" in result.stderr
        assert f"{step} done in" in result.stderr


def test_demo_summary_tells_where_everything_is(built, exported, docs_page):
    from rich.console import Console

    from runner.cli.demo import DemoReport
    from runner.cli.renderers import demo_summary
    from runner.dbt.command import NodeOutcome
    from runner.dbt.docs_site import DocsReport
    from runner.dbt.invoke import DbtOutcome
    from runner.publishing.export import ExportedFile, ExportReport
    from runner.publishing.summary import mart_tables, warning_reasons
    from runner.publishing.tableau import TableauReport

    out, report = exported
    manifest = json.loads((built.work / "target" / "manifest.json").read_text())
    # A test of the real project that warns on real Moodle data, as dbt reports it.
    warn_test = next(
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node["config"]["severity"].lower() == "warn"
        and (node.get("test_metadata") or {}).get("name") == "relationships"
    )
    warned = NodeOutcome(
        warn_test["unique_id"], warn_test["name"], "test", "warn", "Got 3 results", 0.1, 3, None
    )
    tds = (out / "tableau" / "fact_learner_week.tds", out / "tableau" / "fact_session.tds")
    summary = DemoReport(
        connection=built.info,
        marts=mart_tables(built.info),
        export=ExportReport(out, [ExportedFile(**entry) for entry in report["files"]]),
        docs=DocsReport(docs_page, 2.0, [], DbtOutcome("docs", True, 2.0)),
        tableau_sources=TableauReport(out / "tableau", tds),
        steps=[("database", 0.1), ("build", 12.3)],
        embedded=True,
        project_profile=PROJECT_ROOT / "profiles.yml",
        warnings=warning_reasons([warned], manifest),
    )
    console = Console(record=True, width=400)
    console.print(demo_summary(summary))
    text = console.export_text()
    # Every warning by name with a one-line reason naming the model and the count.
    model = manifest["nodes"][warn_test["attached_node"]]["name"]
    warn_line = next(line for line in text.splitlines() if warn_test["name"] in line)
    assert "WARN" in warn_line and f"3 rows of {model}" in warn_line
    # What to do next, in order, with the real paths: docs, Tableau, query, stop the server.
    steps = text[text.index("Next steps") :].splitlines()
    numbered = [line.split(". ", 1)[1] for line in steps if re.search(r"\b[1-4]\. ", line)]
    assert len(numbered) == 4, steps
    assert str(docs_page) in numbered[0]
    assert str(tds[0]) in numbered[1] and "db reporting-login tableau" in numbered[1]
    assert "dbt show" in numbered[2] and "db url" in numbered[2]
    assert "db stop" in numbered[3]
    assert "user a reporting login" in text and f"user {built.info.user} " not in text
    summary.embedded = False
    console = Console(record=True, width=400)
    console.print(demo_summary(summary))
    text = console.export_text()
    for mart in summary.marts:
        assert mart.name in text and f"{mart.rows:,}" in text
    for fragment in (
        f"server {built.info.host}",
        f"port {built.info.port}",
        f"database {built.info.dbname}",
        f"user {built.info.user}",
        "schema mart",
        str(out),
        str(docs_page),
        f"{len(report['files'])} files",
        "build 12.3 s",
    ):
        assert fragment in text, fragment
    assert "db stop" not in text  # a server of the user's own is not the runner's to stop
