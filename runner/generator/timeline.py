"""The calendar of the synthetic site: term dates, and the daily and weekly rhythm of use.

Times are stored as UTC epoch seconds, as Moodle does; the rhythm is that of the site's
time zone, Africa/Nairobi (UTC+3 all year, no daylight saving).
"""

from __future__ import annotations

import calendar
from datetime import datetime

import numpy as np

SITE_TIMEZONE = "Africa/Nairobi"
UTC_OFFSET_SECONDS = 3 * 3600
DAY = 86400


def local_epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch seconds of a wall-clock time in Nairobi."""
    utc = calendar.timegm(datetime(year, month, day, hour, minute).timetuple())
    return utc - UTC_OFFSET_SECONDS


# The site is installed and filled by the admin in the first days of January (cron/CLI),
# then the term runs from Monday 7 January to Sunday 25 August 2019.
SETUP_START = local_epoch(2019, 1, 2, 9)
TERM_START = local_epoch(2019, 1, 7)
TERM_DAYS = 231
TERM_END = TERM_START + TERM_DAYS * DAY
# A one-week mid-term break (Easter) when few learners log in.
BREAK_DAYS = (98, 105)

# Relative activity per local hour 0..23: peaks 08-13 and 19-21, almost nothing 00-04.
HOUR_WEIGHTS = np.array(
    [
        0.03,
        0.012,
        0.008,
        0.008,
        0.015,
        0.08,
        0.3,
        0.7,
        1.25,
        1.45,
        1.5,
        1.45,
        1.3,
        0.95,
        0.8,
        0.8,
        0.75,
        0.7,
        0.85,
        1.25,
        1.35,
        1.2,
        0.6,
        0.18,
    ]
)
# Teachers and admins work office hours, with some evening marking.
STAFF_HOUR_WEIGHTS = np.array(
    [
        0.01,
        0.005,
        0.003,
        0.003,
        0.005,
        0.03,
        0.2,
        0.8,
        1.5,
        1.6,
        1.6,
        1.5,
        1.1,
        1.2,
        1.5,
        1.5,
        1.3,
        0.9,
        0.5,
        0.6,
        0.7,
        0.5,
        0.2,
        0.05,
    ]
)
# Monday .. Sunday.
WEEKDAY_WEIGHTS = np.array([1.1, 1.05, 1.0, 1.0, 0.9, 0.45, 0.4])
STAFF_WEEKDAY_WEIGHTS = np.array([1.2, 1.2, 1.15, 1.1, 1.0, 0.2, 0.12])


def day_start(day: np.ndarray | int) -> np.ndarray | int:
    """UTC epoch of local midnight starting term day ``day`` (0 = 7 January 2019)."""
    return TERM_START + day * DAY


def day_of(epoch: np.ndarray) -> np.ndarray:
    """Term day of each epoch (may be negative before the term)."""
    return np.floor_divide(epoch - TERM_START, DAY)


def learner_day_weights() -> np.ndarray:
    """Relative activity per term day: weekly rhythm, a break, a mild mid-term slump."""
    days = np.arange(TERM_DAYS)
    weights = WEEKDAY_WEIGHTS[days % 7].copy()  # TERM_START is a Monday
    weights[BREAK_DAYS[0] : BREAK_DAYS[1]] *= 0.35
    # Enthusiasm at the start, a dip in the middle, a push before the end.
    weights *= 1.15 - 0.3 * np.sin(np.pi * days / TERM_DAYS) + 0.15 * (days > TERM_DAYS - 21)
    return weights


def staff_day_weights() -> np.ndarray:
    days = np.arange(TERM_DAYS)
    weights = STAFF_WEEKDAY_WEIGHTS[days % 7].copy()
    weights[BREAK_DAYS[0] : BREAK_DAYS[1]] *= 0.5
    return weights


def sample_seconds_of_day(rng: np.random.Generator, n: int, hour_weights: np.ndarray) -> np.ndarray:
    """Local second-of-day for ``n`` session starts, following an hourly profile."""
    probabilities = hour_weights / hour_weights.sum()
    hours = rng.choice(24, size=n, p=probabilities)
    return hours * 3600 + rng.integers(0, 3600, size=n)
