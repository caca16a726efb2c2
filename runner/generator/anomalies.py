"""Hostile data, the one place for it: rows real sites accumulate through bugs and history.

``apply_anomalies`` is called on every block of log rows just before it is sorted and
written. At rate 0 (the default) it returns the block unchanged. A later ``anomaly_rate``
option will add here: rows for users and courses that no longer exist, timecreated 0,
negative or far in the future, duplicated events, unknown eventnames, and so on.
"""

from __future__ import annotations

import numpy as np

from .logblock import LogBlock


def apply_anomalies(block: LogBlock, rate: float, rng: np.random.Generator) -> LogBlock:
    if rate <= 0:
        return block
    raise NotImplementedError("hostile data (anomaly_rate > 0) is not implemented yet")
