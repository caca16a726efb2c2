"""A standalone Spark cluster on this machine, started from the installed pyspark package.

One master and a number of workers, each its own JVM (`spark-class ...deploy.master.Master`
and `...deploy.worker.Worker`: the pyspark wheel ships no start-master.sh). An application
that connects to the master's URL (the `spark` dbt target with SPARK_MASTER set to it) gets
executors in JVMs of their own, launched by the workers: the same deployment as a cluster of
many machines, with every machine's part on one. Each worker offers a bounded number of
cores and memory, so the cluster cannot take the whole machine.

The processes run in the background, detached from the caller; their ids and the URLs are
kept in ``cluster.json`` in the cluster's folder, so `stop` and `status` work from another
process. Stopping ends each process's whole group (a worker's executors with it) and touches
no process that is not the one recorded (the command line is checked first).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runner.paths import RUNTIME_DIR
from runner.user_errors import UserError

DEFAULT_FOLDER = RUNTIME_DIR / "spark-cluster"
STATE_FILE = "cluster.json"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# Heap of the master and worker daemons themselves (executors get their own, from the
# application): they only keep track of a few applications.
DAEMON_MEMORY = "512m"


@dataclass(frozen=True)
class ClusterSettings:
    """What to start: where the cluster keeps its files, its ports and each worker's share."""

    folder: Path = DEFAULT_FOLDER
    host: str = "127.0.0.1"
    port: int = 7077
    web_port: int = 8080
    workers: int = 2
    cores_per_worker: int = 1
    memory_per_worker: str = "3g"

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise UserError(f"a cluster needs at least one worker, got {self.workers}")
        if self.cores_per_worker < 1:
            raise UserError(f"each worker needs at least one core, got {self.cores_per_worker}")
        if not _is_memory_size(self.memory_per_worker):
            raise UserError(
                f"worker memory must be a size such as 512m or 3g, got {self.memory_per_worker!r}"
            )


@dataclass(frozen=True)
class ClusterProcess:
    role: str  # "master", "worker-1", ...
    pid: int
    log: Path


@dataclass(frozen=True)
class SparkCluster:
    """A cluster that was started: what an application connects to, and what to stop."""

    folder: Path
    master_url: str
    web_url: str
    workers: int
    processes: tuple[ClusterProcess, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["folder"] = str(self.folder)
        document["processes"] = [
            {"role": process.role, "pid": process.pid, "log": str(process.log)}
            for process in self.processes
        ]
        return document

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> SparkCluster:
        return cls(
            folder=Path(document["folder"]),
            master_url=document["master_url"],
            web_url=document["web_url"],
            workers=int(document["workers"]),
            processes=tuple(
                ClusterProcess(item["role"], int(item["pid"]), Path(item["log"]))
                for item in document["processes"]
            ),
        )


@dataclass(frozen=True)
class ClusterStatus:
    cluster: SparkCluster
    running: list[str]  # roles whose process is alive
    alive_workers: int  # workers the master counts as ALIVE (0 when it does not answer)

    @property
    def ready(self) -> bool:
        return self.alive_workers == self.cluster.workers

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.cluster.as_dict(),
            "running": self.running,
            "alive_workers": self.alive_workers,
            "ready": self.ready,
        }


# --- what the cluster needs --------------------------------------------------------------------


def spark_home() -> Path:
    """The pyspark package folder: Spark's jars, bin/spark-class and the default config."""
    try:
        import pyspark
    except ImportError as error:
        raise UserError(
            "pyspark is not installed: a Spark cluster starts from it",
            "pip install -e '.[spark]'",
        ) from error
    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-class").exists() or not (home / "jars").is_dir():
        raise UserError(f"the pyspark package at {home} lacks bin/spark-class or jars/")
    return home


def java_executable() -> Path:
    """The java Spark's scripts will run: $JAVA_HOME/bin/java, else the one on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.exists():
            return candidate
        raise UserError(f"JAVA_HOME is {java_home}, which has no bin/java: Spark needs Java 17+")
    found = shutil.which("java")
    if found is None:
        raise UserError(
            "Java is missing: Spark needs Java 17 or later",
            "install a JDK (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
        )
    return Path(found)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for tests and side-by-side clusters)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _require_free_port(host: str, port: int, what: str, option: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the JVM binds: a closed connection still waiting (TIME_WAIT) does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UserError(
                f"port {port} on {host} is taken ({error.strerror}): the Spark master's {what} "
                "cannot listen there",
                f"another Spark master or program uses it; choose another with {option}",
            ) from None


def _is_memory_size(text: str) -> bool:
    return len(text) > 1 and text[:-1].isdigit() and text[-1].lower() in "mg"


# --- start, stop, status -----------------------------------------------------------------------


def read_cluster(folder: Path = DEFAULT_FOLDER) -> SparkCluster | None:
    path = folder / STATE_FILE
    try:
        return SparkCluster.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


def _write_cluster(cluster: SparkCluster) -> None:
    path = cluster.folder / STATE_FILE
    partial = path.with_name(f".{STATE_FILE}.{os.getpid()}.partial")
    partial.write_text(json.dumps(cluster.as_dict(), indent=2), encoding="utf-8")
    os.replace(partial, path)


def start_cluster(settings: ClusterSettings, *, timeout: float = 180.0) -> SparkCluster:
    """Start the master and the workers; return once every worker has registered.

    Raises UserError (and leaves nothing running) when Java is missing, a port is taken, a
    process dies or a worker does not register within ``timeout`` seconds.
    """
    home = spark_home()
    java = java_executable()
    folder = settings.folder.absolute()
    running = cluster_status(folder)
    if running is not None and running.running:
        raise UserError(
            f"a Spark cluster already runs from {folder} (master {running.cluster.master_url})",
            "stop it first: moodle-analytics spark-cluster stop",
        )
    _require_free_port(settings.host, settings.port, "port", "--port")
    _require_free_port(settings.host, settings.web_port, "web UI port", "--web-port")
    folder.mkdir(parents=True, exist_ok=True)
    master_url = f"spark://{settings.host}:{settings.port}"
    cluster = SparkCluster(
        folder=folder,
        master_url=master_url,
        web_url=f"http://{settings.host}:{settings.web_port}",
        workers=settings.workers,
    )
    environment = _daemon_environment(home, java, settings.host, folder)
    started: list[subprocess.Popen[bytes]] = []
    try:
        master = _launch(
            "master",
            [
                *(MASTER_CLASS, "--host", settings.host, "--port", str(settings.port)),
                *("--webui-port", str(settings.web_port)),
            ],
            home,
            environment,
            folder,
            started,
        )
        cluster = _with_process(cluster, master)
        # The workers start beside the master rather than after it: a JVM takes seconds to
        # start, and a worker that finds no master yet retries until it answers.
        for number in range(1, settings.workers + 1):
            work_dir = folder / f"worker-{number}"
            work_dir.mkdir(exist_ok=True)
            worker = _launch(
                f"worker-{number}",
                [
                    *(WORKER_CLASS, master_url, "--host", settings.host),
                    *("--cores", str(settings.cores_per_worker)),
                    *("--memory", settings.memory_per_worker),
                    *("--webui-port", "0", "--work-dir", str(work_dir)),
                ],
                home,
                {**environment, "SPARK_LOCAL_DIRS": str(work_dir / "scratch")},
                folder,
                started,
            )
            cluster = _with_process(cluster, worker)
        _wait(
            cluster,
            started,
            timeout,
            lambda state: state is not None and _alive_workers(state) == settings.workers,
            f"not every worker registered with the master at {master_url}",
        )
    except BaseException:
        # Started here, so ours whatever their command line shows yet (a fork, then a shell).
        _stop_groups([process.pid for process in reversed(started)])
        for process in started:
            process.wait()
        (folder / STATE_FILE).unlink(missing_ok=True)
        raise
    return cluster


@contextmanager
def running_cluster(settings: ClusterSettings) -> Iterator[SparkCluster]:
    """A cluster for the length of a ``with`` block (a benchmark's build, a test module)."""
    cluster = start_cluster(settings)
    try:
        yield cluster
    finally:
        stop_cluster(cluster.folder)


def stop_cluster(folder: Path = DEFAULT_FOLDER) -> list[ClusterProcess]:
    """Stop the cluster started from ``folder``; the processes that were still running."""
    cluster = read_cluster(folder.absolute())
    if cluster is None:
        return []
    stopped = _stop_processes(cluster.processes)
    (cluster.folder / STATE_FILE).unlink(missing_ok=True)
    return stopped


def cluster_status(folder: Path = DEFAULT_FOLDER) -> ClusterStatus | None:
    """The cluster started from ``folder`` (None if none was): which processes live, and how
    many workers the master counts as alive."""
    cluster = read_cluster(folder.absolute())
    if cluster is None:
        return None
    running = [process.role for process in cluster.processes if _is_ours(process)]
    state = _master_state(cluster.web_url) if "master" in running else None
    alive = _alive_workers(state) if state is not None else 0
    return ClusterStatus(cluster, running, alive)


# --- processes ---------------------------------------------------------------------------------


def _daemon_environment(home: Path, java: Path, host: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(home),
        "JAVA_HOME": str(java.resolve().parent.parent),
        "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
        # Bind to the cluster's host (not every interface) and name it so in URLs.
        "SPARK_LOCAL_IP": host,
        "SPARK_LOG_DIR": str(folder),
        "SPARK_PID_DIR": str(folder),
    }


def _launch(
    role: str,
    arguments: list[str],
    home: Path,
    environment: dict[str, str],
    folder: Path,
    started: list[subprocess.Popen[bytes]],
) -> ClusterProcess:
    log = folder / f"{role}.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [str(home / "bin" / "spark-class"), *arguments],
            cwd=folder,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group: it outlives the command that started it, and stopping
            # the group ends the executors a worker launched too.
            start_new_session=True,
        )
    started.append(process)
    return ClusterProcess(role, process.pid, log)


def _with_process(cluster: SparkCluster, process: ClusterProcess) -> SparkCluster:
    updated = SparkCluster(
        cluster.folder,
        cluster.master_url,
        cluster.web_url,
        cluster.workers,
        (*cluster.processes, process),
    )
    _write_cluster(updated)
    return updated


def _wait(
    cluster: SparkCluster,
    started: list[subprocess.Popen[bytes]],
    timeout: float,
    done: Callable[[dict[str, Any] | None], bool],
    failure: str,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for process, child in zip(cluster.processes, started, strict=True):
            if child.poll() is not None:
                raise UserError(
                    f"the Spark {process.role} stopped while the cluster was starting",
                    _log_tail(process.log),
                )
        if done(_master_state(cluster.web_url)):
            return
        if time.monotonic() > deadline:
            details = "\n".join(
                f"--- {process.role} ({process.log}):\n{_log_tail(process.log)}"
                for process in cluster.processes
            )
            raise UserError(f"{failure} within {timeout:.0f} s", details)
        time.sleep(0.5)


def _master_state(web_url: str) -> dict[str, Any] | None:
    """The master's own account of the cluster (its web UI's JSON); None if it does not answer."""
    try:
        with urllib.request.urlopen(f"{web_url}/json/", timeout=5) as response:
            return json.loads(response.read().decode("utf-8"))
    except (OSError, urllib.error.URLError, ValueError):
        return None


def _alive_workers(state: dict[str, Any]) -> int:
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


def _is_ours(process: ClusterProcess) -> bool:
    """Whether the recorded id is still the Spark daemon we started (ids get reused)."""
    try:
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    expected = MASTER_CLASS if process.role == "master" else WORKER_CLASS
    # The class is an argument both of the spark-class script and of the java it becomes.
    return expected in command


def _stop_processes(processes: tuple[ClusterProcess, ...]) -> list[ClusterProcess]:
    """Stop the recorded daemons that still run, workers first; those it stopped."""
    ours = [process for process in reversed(processes) if _is_ours(process)]
    _stop_groups([process.pid for process in ours])
    return ours


def _stop_groups(pids: list[int], grace: float = 30.0) -> None:
    """SIGTERM to each process group (a worker's executors are in its group), SIGKILL to
    those still alive after ``grace`` seconds."""
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in pids:
        while _group_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if _group_alive(pid):
            _signal_group(pid, signal.SIGKILL)
        _reap(pid)


def _signal_group(pid: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal_number)


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when this process started the daemon (no zombie left)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _log_tail(log: Path, characters: int = 3000) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return text[-characters:]
