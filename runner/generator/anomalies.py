"""Hostile data, the one place for it: rows real Moodle dumps accumulate through bugs,
plugins that came and went and botched imports. Rows of courses, activities and contexts
deleted since are not among them: Moodle's deletions keep the log rows, and they count
(docs/history.md).

``HostileData`` only ever ADDS rows. It samples clean log rows as templates while the log is
written, and afterwards returns copies that each carry one anomaly, with ids after the whole
clean log, plus extra users, contexts, grade items, grades and forum posts with ids after the
clean ones. It draws from a random stream of its own and never touches the clean rows or the
clean streams, so the same seed gives the database without anomalies plus these rows: every
clean row is identical, id for id. At rate 0 (the default) it adds nothing.

The anomaly kinds, and the staging flag that catches each (docs/hostile_data.md):

- ``unknown_user``: userid of a user that is not in mdl_user (inner join on users).
- ``time_zero``, ``time_negative``, ``time_future``: timecreated 0, below 0, in 2040-2100.
- ``duplicate``: the same row again, every column but id, written long after (a log imported
  twice). A copy of a row from the log's last hour is not made: Moodle itself writes identical
  rows within a second, and the staging rule only calls a copy a duplicate once the log has
  moved on by an hour.
- ``null_course``: courseid NULL (Moodle writes 0 when there is no course).
- ``missing_context_instance``: contextinstanceid 0 on a course or module row (the column is
  NOT NULL in Moodle's schema, so 0 is how a lost instance shows).
- ``malformed_event_name``: an eventname that is not ``\\<component>\\event\\<name>`` of its
  component (no namespace, or a component that does not match it).
- ``unreadable_other``: ``other`` that is neither JSON nor PHP-serialised.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .anomaly_tables import ExtraRows, build_extra_rows
from .episodes import Plans
from .site import Site
from .tables import TableRows

LOG_ANOMALIES = (
    "unknown_user",
    "time_zero",
    "time_negative",
    "time_future",
    "duplicate",
    "null_course",
    "missing_context_instance",
    "malformed_event_name",
    "unreadable_other",
)
MAX_RATE = 0.5
# The staging rule: a copy is a duplicate once the log has moved on by this much.
DUPLICATE_LAG_SECONDS = 3600
YEAR_2040, YEAR_2100 = 2208988800, 4102444800
# Ids far above anything the clean site or the extra rows use: things that no longer exist.
GONE_ID_OFFSET = 100_000
# What broken writers and imports leave in `other`: PHP's array-to-string, truncated JSON or
# serialised PHP, an object's debug print, text decoded twice.
UNREADABLE_OTHER = (
    "Array",
    '{"courseid":"2","relateduserid":',
    'a:2:{s:8:"courseid";s:1:"2";s:5:"other"',
    "Object id #17",
    "caf\u00c3\u00a9 r\u00c3\u00a9sum\u00c3\u00a9",
)
LEVEL_COURSE, LEVEL_MODULE = 50, 70


def validate_anomaly_rate(rate: float) -> float:
    if not isinstance(rate, int | float) or not 0 <= rate <= MAX_RATE:
        raise ValueError(f"anomaly rate must be between 0 and {MAX_RATE}, not {rate!r}")
    return float(rate)


class HostileData:
    """Anomalous rows at ``rate``: about ``rate`` x the clean rows of each table."""

    def __init__(self, rate: float, rng: np.random.Generator, site: Site, plans: Plans):
        self.rate, self.rng, self.site, self.plans = rate, rng, site, plans
        self.templates: list[tuple[str, dict]] = []
        self.schema: pa.Schema | None = None
        self.max_time = 0
        self.kinds = itertools.cycle(LOG_ANOMALIES)
        self.counts: Counter[str] = Counter()
        self.extra: ExtraRows | None = None

    def sample(self, log_rows: pa.Table) -> None:
        """Pick templates from one block of clean log rows (as written to the table)."""
        if self.rate <= 0 or log_rows.num_rows == 0:
            return
        self.schema = log_rows.schema
        self.max_time = max(self.max_time, pc.max(log_rows["timecreated"]).as_py())
        levels = log_rows["contextlevel"].to_numpy()
        wanted = Counter(
            next(self.kinds) for _ in range(int(self.rng.binomial(log_rows.num_rows, self.rate)))
        )
        order = self.rng.permutation(log_rows.num_rows)
        used = np.zeros(log_rows.num_rows, dtype=bool)
        picks: list[tuple[int, str]] = []
        for kind in LOG_ANOMALIES:  # each template serves one kind only
            pool = order[_eligible(kind, levels)[order] & ~used[order]][: wanted[kind]]
            used[pool] = True
            picks += [(int(row), kind) for row in pool]
        picks.sort()  # templates in log order
        if picks:
            rows = log_rows.take(pa.array([row for row, _ in picks])).to_pylist()
            self.templates += [(kind, row) for (_, kind), row in zip(picks, rows, strict=True)]

    def log_rows(self, first_id: int) -> pa.Table:
        """The anomalous log rows, ids from ``first_id`` on (after the whole clean log)."""
        rows = []
        for kind, template in self.templates:
            if kind == "duplicate" and template["timecreated"] > (
                self.max_time - DUPLICATE_LAG_SECONDS
            ):
                continue
            row = dict(template)
            _MAKERS[kind](self, row)
            row["id"] = first_id + len(rows)
            rows.append(row)
            self.counts[kind] += 1
        if self.schema is None:
            return pa.table({})
        return pa.Table.from_pylist(rows, schema=self.schema)

    def tables(self) -> list[TableRows]:
        """Extra rows for the other tables: users, their contexts, grades, forum posts."""
        if self.rate <= 0:
            return []
        self.extra = build_extra_rows(self.rate, self.rng, self.site, self.plans)
        self.counts.update(self.extra.counts)
        return self.extra.tables

    def _gone(self, base: int) -> int:
        # A few distinct ids, as when a handful of courses or activities were deleted.
        return base + GONE_ID_OFFSET + int(self.rng.integers(0, 3))

    def _unknown_user(self, row: dict) -> None:
        row["userid"] = self._gone(self.site.people.count)

    def _time_zero(self, row: dict) -> None:
        row["timecreated"] = 0

    def _time_negative(self, row: dict) -> None:
        row["timecreated"] = -int(self.rng.integers(1, 2**31))

    def _time_future(self, row: dict) -> None:
        row["timecreated"] = int(self.rng.integers(YEAR_2040, YEAR_2100))

    def _duplicate(self, row: dict) -> None:
        pass  # every column but id is the template's

    def _null_course(self, row: dict) -> None:
        row["courseid"] = None

    def _missing_context_instance(self, row: dict) -> None:
        row["contextinstanceid"] = 0

    def _malformed_event_name(self, row: dict) -> None:
        if self.rng.random() < 0.5:
            # Only the class's short name, as some legacy imports wrote it.
            row["eventname"] = row["eventname"].rsplit("\\", 1)[-1]
        else:
            # A component the eventname does not belong to.
            row["component"] = "local_unknown"

    def _unreadable_other(self, row: dict) -> None:
        row["other"] = UNREADABLE_OTHER[int(self.rng.integers(len(UNREADABLE_OTHER)))]


_MAKERS: dict[str, Callable[[HostileData, dict], None]] = {
    kind: getattr(HostileData, f"_{kind}") for kind in LOG_ANOMALIES
}


def _eligible(kind: str, levels: np.ndarray) -> np.ndarray:
    """Rows a kind can be made from: lost instances need a course or module row."""
    if kind == "missing_context_instance":
        return (levels == LEVEL_COURSE) | (levels == LEVEL_MODULE)
    return np.ones(len(levels), dtype=bool)
