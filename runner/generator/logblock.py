"""A block of log rows as parallel numpy columns, before they become mdl_logstore_standard_log.

Generators fill only what varies per row; the writer derives the rest (catalogue columns,
context, courseid, objectid and relateduserid rules, JSON ``other``, ip) from the kind.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

NULL = np.iinfo(np.int64).min  # marks a NULL in nullable integer columns
WEB, CLI, WS, RESTORE = 0, 1, 2, 3
ORIGINS = ("web", "cli", "ws", "restore")


@dataclass
class LogBlock:
    kind: np.ndarray  # code into catalogue.KINDS
    time: np.ndarray  # UTC epoch seconds
    order: np.ndarray  # tie-break inside a second (row order in Moodle's request)
    user: np.ndarray  # acting userid (0 not logged in / no-reply, -1 system regrade)
    course: np.ndarray  # course id (0 none); written as courseid for course/module events
    cm: np.ndarray  # course module id for module events, 0 otherwise
    obj: np.ndarray  # objectid where the kind takes it from the row
    related: np.ndarray  # relateduserid where the kind takes it from the row
    realuser: np.ndarray  # NULL except while logged in as someone else
    aux1: np.ndarray  # kind-specific numbers for ``other``
    aux2: np.ndarray
    origin: np.ndarray  # WEB/CLI/WS/RESTORE
    ipuser: np.ndarray  # whose address the request came from; 0 for '' (cron)
    ipvar: np.ndarray  # which of that user's two addresses

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: np.ndarray) -> LogBlock:
        return LogBlock(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


_DEFAULTS = {"related": NULL, "realuser": NULL, "obj": NULL}


def make_block(n: int, **columns) -> LogBlock:
    """A block of ``n`` rows; scalars broadcast, unspecified columns get neutral values."""
    values = {}
    for f in fields(LogBlock):
        value = columns.pop(f.name, _DEFAULTS.get(f.name, 0))
        dtype = (
            np.int16 if f.name == "kind" else np.int8 if f.name in ("origin", "ipvar") else np.int64
        )
        array = np.asarray(value, dtype=dtype)
        values[f.name] = np.broadcast_to(array, (n,)).copy() if array.ndim == 0 else array
    if columns:
        raise TypeError(f"unknown log columns: {sorted(columns)}")
    return LogBlock(**values)


def concat(blocks: list[LogBlock]) -> LogBlock:
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return make_block(0)
    return LogBlock(
        **{f.name: np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(LogBlock)}
    )


def sort_by_time(block: LogBlock) -> LogBlock:
    return block.take(np.lexsort((block.order, block.time)))
