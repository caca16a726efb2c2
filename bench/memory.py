"""Peak memory while a step runs: of the benchmark's own processes and of the server's backends.

A background thread samples every ``interval`` seconds. The runner's figure is the resident
set of this process plus its children (dbt runs as a child). The server's figure is the sum
of the unique set size (memory no other process shares, so shared_buffers is not counted) of
the backends working on the benchmark's database, plus the temporary files PostgreSQL wrote
(pg_stat_database.temp_bytes), which is where large sorts go when work_mem is exceeded.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import psutil

from runner.postgres.connection import ConnectionInfo

MIB = 1024 * 1024


@dataclass
class MemoryPeak:
    runner_peak_mib: float = 0.0
    # This process before the step (Python, pandas, dbt's modules): the step's own need is
    # the peak above it.
    runner_baseline_mib: float = 0.0
    server_peak_mib: float = 0.0
    server_temp_mib: float = 0.0

    @property
    def runner_step_mib(self) -> float:
        return max(self.runner_peak_mib - self.runner_baseline_mib, 0.0)

    def as_dict(self) -> dict[str, float]:
        return {
            "runner_peak_mib": round(self.runner_peak_mib, 1),
            "runner_baseline_mib": round(self.runner_baseline_mib, 1),
            "runner_step_mib": round(self.runner_step_mib, 1),
            "server_peak_mib": round(self.server_peak_mib, 1),
            "server_temp_mib": round(self.server_temp_mib, 1),
        }


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def _backends_uss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            try:
                total += process.memory_full_info().uss
            except psutil.AccessDenied:
                # Another OS user's server: RSS over-counts shared memory but is still a bound.
                total += process.memory_info().rss
    return total


class _Sampler(threading.Thread):
    def __init__(self, info: ConnectionInfo, interval: float) -> None:
        super().__init__(daemon=True, name="bench-memory-sampler")
        self.info = info
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak = MemoryPeak()
        self.me = psutil.Process(os.getpid())
        self.server_is_local = True

    def run(self) -> None:
        connection = self.info.connect(autocommit=True)
        try:
            with connection.cursor() as cursor:
                own_backend = connection.get_backend_pid()
                ticks = 0
                pids: list[int] = []
                while not self.stop_event.is_set():
                    if ticks % 5 == 0:  # the list of backends changes rarely
                        cursor.execute(
                            "select pid from pg_stat_activity where datname = %s and pid <> %s",
                            (self.info.dbname, own_backend),
                        )
                        pids = [row[0] for row in cursor.fetchall()]
                    ticks += 1
                    self.sample(pids)
                    self.stop_event.wait(self.interval)
                self.sample(pids)
        finally:
            connection.close()

    def sample(self, pids: list[int]) -> None:
        self.peak.runner_peak_mib = max(self.peak.runner_peak_mib, _tree_rss(self.me) / MIB)
        if self.server_is_local:
            self.peak.server_peak_mib = max(self.peak.server_peak_mib, _backends_uss(pids) / MIB)


def temp_bytes(info: ConnectionInfo) -> int:
    """Bytes of temporary files the server has written for this database since its stats reset."""
    connection = info.connect(autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select coalesce(temp_bytes, 0) from pg_stat_database where datname = %s",
                (info.dbname,),
            )
            row = cursor.fetchone()
            return int(row[0]) if row else 0
    finally:
        connection.close()


def server_is_local(info: ConnectionInfo) -> bool:
    """Backend pids mean something only when the server runs on this machine."""
    return info.host in ("127.0.0.1", "localhost", "::1") or info.host.startswith("/")


@contextlib.contextmanager
def measure_peak(info: ConnectionInfo, interval: float = 0.1) -> Iterator[MemoryPeak]:
    """Sample memory while the block runs; the yielded MemoryPeak is filled in when it ends."""
    temp_before = temp_bytes(info)
    sampler = _Sampler(info, interval)
    sampler.server_is_local = server_is_local(info)
    sampler.start()
    result = MemoryPeak(runner_baseline_mib=_tree_rss(psutil.Process(os.getpid())) / MIB)
    try:
        yield result
    finally:
        sampler.stop_event.set()
        sampler.join()
        result.runner_peak_mib = sampler.peak.runner_peak_mib
        result.server_peak_mib = sampler.peak.server_peak_mib
        # The statistics collector reports temp files when a query ends: read after the step.
        result.server_temp_mib = (temp_bytes(info) - temp_before) / MIB
