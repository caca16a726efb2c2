"""The log, window by window in time order: simulate, add completions, sort, number, write.

Windows of a few days keep memory flat whatever the scale. Rows that spill past a window's
end (a session running past midnight, cron mail after a post) wait for the next window, so
ids grow with time across the whole log, as on a real site.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import people as ppl
from . import timeline as tl
from .activity import BrowsingSimulator
from .catalogue import VIEW_KIND_BY_MODULE, K
from .episodes import PRE_ANCHOR, EpisodeExpander
from .logblock import NULL, WEB, WS, LogBlock, concat, make_block, sort_by_time
from .site import Site
from .tables import Observed

VIEW_KINDS = np.array(sorted(VIEW_KIND_BY_MODULE.values()))
ACCESS_EXCLUDED = np.array([K["login_failed"], K["user_created"]])


def window_days(scale: float) -> int:
    """Days per window: about 60 thousand log rows, so memory stays flat as scale grows."""
    return int(min(14, max(1, round(33 / scale))))


class LogStream:
    def __init__(
        self,
        site: Site,
        simulator: BrowsingSimulator,
        expander: EpisodeExpander,
        seed: int,
        scale: float,
    ):
        self.site, self.simulator, self.expander = site, simulator, expander
        self.seed, self.scale = seed, scale
        n_users = site.people.count + 1
        self.n_cm = site.courses.cms.count + 1
        self.is_learner = site.people.role == ppl.LEARNER
        self.completion_view = site.courses.cms.completionview.astype(bool)
        self.completed_keys = np.zeros(0, dtype=np.int64)
        big = np.iinfo(np.int64).max
        self.observed = Observed(
            firstaccess=np.full(n_users, big, dtype=np.int64),
            lastaccess=np.zeros(n_users, dtype=np.int64),
            lastlogin=np.zeros(n_users, dtype=np.int64),
            currentlogin=np.zeros(n_users, dtype=np.int64),
            lastip=[""] * n_users,
            completions={},
        )
        self.last_access_ip = np.full(n_users, -1, dtype=np.int64)
        self.next_log_id = 1
        self.next_notification_id = 1

    def blocks(self) -> Iterator[tuple[LogBlock, int]]:
        """Time-ordered blocks with the id of their first row."""
        step = window_days(self.scale)
        bounds = [(None, 0)] + [
            (d, min(d + step, tl.TERM_DAYS)) for d in range(0, tl.TERM_DAYS, step)
        ]
        carry = make_block(0)
        serial = 0
        for w, (day0, day1) in enumerate(bounds):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, 7, w])))
            last = w == len(bounds) - 1
            window_end = np.iinfo(np.int64).max if last else tl.day_start(day1)
            anchor_lo = 0 if day0 is None else tl.day_start(day0) + PRE_ANCHOR
            anchor_hi = float("inf") if last else window_end + PRE_ANCHOR
            parts = [carry]
            if day0 is not None:
                browsing, serial = self.simulator.sessions(rng, day0, day1, serial)
                parts.append(browsing)
            episodes, serial = self.expander.rows(rng, anchor_lo, anchor_hi, serial)
            parts.append(episodes)
            block = concat(parts)
            block = concat([block, self._view_completions(block)])
            # Hostile rows are added after the whole log (anomalies.py), never mixed in here.
            block = sort_by_time(block)
            split = int(np.searchsorted(block.time, window_end, side="left"))
            carry = block.take(np.arange(split, len(block)))
            ready = block.take(np.arange(split))
            if len(ready):
                self._number(ready)
                self._observe(ready)
                first_id = self.next_log_id
                self.next_log_id += len(ready)
                yield ready, first_id

    def _view_completions(self, block: LogBlock) -> LogBlock:
        """A learner's first view of a module with view completion: two rows in the same
        second, state 0 then 1, as Moodle's completion API writes them."""
        rows = np.flatnonzero(
            np.isin(block.kind, VIEW_KINDS)
            & (block.user > 0)
            & (block.realuser == NULL)
            & self.completion_view[block.cm]
        )
        rows = rows[self.is_learner[block.user[rows]]]
        keys = block.user[rows] * self.n_cm + block.cm[rows]
        fresh = ~np.isin(keys, self.completed_keys)
        rows, keys = rows[fresh], keys[fresh]
        order = np.lexsort((block.order[rows], block.time[rows], keys))
        rows, keys = rows[order], keys[order]
        unique_keys, first = np.unique(keys, return_index=True)
        rows = rows[first]
        self.completed_keys = np.union1d(self.completed_keys, unique_keys)
        pair = np.repeat(rows, 2)
        state = np.tile([0, 1], len(rows))
        return make_block(
            len(pair),
            kind=K["completion"],
            time=block.time[pair],
            order=block.order[pair],
            user=block.user[pair],
            course=block.course[pair],
            cm=block.cm[pair],
            related=block.user[pair],
            aux1=state,
            origin=block.origin[pair],
            ipuser=block.ipuser[pair],
            ipvar=block.ipvar[pair],
        )

    def _number(self, block: LogBlock) -> None:
        """Ids that follow time: course_modules_completion rows and notifications."""
        completions = self.observed.completions
        for i in np.flatnonzero(block.kind == K["completion"]):
            user, cm = int(block.related[i]), int(block.cm[i])
            key = user * self.n_cm + cm
            row = completions.get(key)
            if row is None:
                row = completions[key] = [len(completions) + 1, cm, user, 0, 0]
            row[3], row[4] = int(block.aux1[i]), int(block.time[i])
            block.obj[i] = row[0]
        sent = np.flatnonzero(block.kind == K["notification"])
        block.obj[sent] = self.next_notification_id + np.arange(len(sent))
        self.next_notification_id += len(sent)

    def _observe(self, block: LogBlock) -> None:
        """lastaccess, firstaccess, logins and last IP per user, as Moodle keeps them."""
        seen = self.observed
        access = (
            (block.user > 0)
            & (block.realuser == NULL)
            & ((block.origin == WEB) | (block.origin == WS))
        )
        access &= ~np.isin(block.kind, ACCESS_EXCLUDED)
        users, times = block.user[access], block.time[access]
        np.maximum.at(seen.lastaccess, users, times)
        web = block.origin[access] == WEB
        np.minimum.at(seen.firstaccess, users[web], times[web])
        # The last access of each user in this block gives their last IP.
        reverse_first = np.unique(users[::-1], return_index=True)
        last_rows = np.flatnonzero(access)[::-1][reverse_first[1]]
        self.last_access_ip[reverse_first[0]] = 2 * block.ipuser[last_rows] + block.ipvar[last_rows]
        logins = np.flatnonzero(block.kind == K["login"])
        for i in logins:  # in time order: the previous current login becomes the last login
            user = block.user[i]
            seen.lastlogin[user] = seen.currentlogin[user]
            seen.currentlogin[user] = block.time[i]

    def finish(self) -> Observed:
        seen = self.observed
        seen.firstaccess[seen.firstaccess == np.iinfo(np.int64).max] = 0
        ips = self.site.people.ips
        seen.lastip = ["" if k < 0 else ips[k] for k in self.last_access_ip]
        return seen
