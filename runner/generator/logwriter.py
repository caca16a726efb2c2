"""Turn a LogBlock into the columns of mdl_logstore_standard_log as a pyarrow table.

All per-row work is vectorised: catalogue columns and pooled strings are ``take``s, JSON
``other`` strings are joined element-wise from literal pieces and per-row values.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .catalogue import COURSE, KINDS, MODULE, USER, kind_entries
from .logblock import NULL, ORIGINS, LogBlock
from .site import SYSTEM_CONTEXT, Site

LOG_COLUMNS = (
    "id",
    "eventname",
    "component",
    "action",
    "target",
    "objecttable",
    "objectid",
    "crud",
    "edulevel",
    "contextid",
    "contextlevel",
    "contextinstanceid",
    "userid",
    "courseid",
    "relateduserid",
    "anonymous",
    "other",
    "timecreated",
    "origin",
    "ip",
    "realuserid",
)
# What learners write in forums and online-text submissions (JSON-escaped when used).
CONTENT = (
    "<p>Could someone explain how to handle missing values before training?</p>",
    "<p>I think the answer is in this month's notes, section 2.</p>",
    "<p>Thanks, that helped a lot!</p>",
    "<p>My model overfits badly. Should I try regularisation or more data?</p>",
    "<p>Here is my summary of the reading: the key idea is to validate on unseen data.</p>",
    "<p>Reminder: the quiz closes on Friday at midnight. Good luck!</p>",
    "<p>Great question. Yes, that is correct - well done.</p>",
    "<p>Is the deadline for the project extended?</p>",
    "<p>I have attached my notebook; the pipeline runs end to end now.</p>",
    "<p>We used a random forest baseline and then gradient boosting.</p>",
)
WS_FUNCTIONS = (
    "core_webservice_get_site_info",
    "core_enrol_get_users_courses",
    "core_course_get_contents",
    "core_course_view_course",
    "mod_forum_view_forum",
    "mod_forum_get_discussion_posts",
    "mod_page_view_page",
    "mod_resource_view_resource",
    "mod_quiz_view_quiz",
    "mod_assign_view_submission_status",
    "gradereport_user_view_grade_report",
    "core_course_get_updates_since",
)
ENROL_NAMES = ("manual", "self")
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")


def json_text(value: str) -> str:
    """A string as PHP's json_encode writes it inside quotes (slashes escaped)."""
    return json.dumps(value)[1:-1].replace("/", "\\/")


class LogEncoder:
    def __init__(self, site: Site, session_ids: list[str]):
        people, cms = site.people, site.courses.cms
        entries = kind_entries()
        self.catalogue = {
            name: pa.array([getattr(e, name) for e in entries], type=pa.string())
            for name in ("eventname", "component", "action", "target", "objecttable", "crud")
        }
        self.edulevel = np.array([e.edulevel for e in entries], dtype=np.int64)
        self.level = np.array([k.level for k in KINDS], dtype=np.int64)
        self.obj_rule = [k.objectid for k in KINDS]
        self.related_rule = [k.related for k in KINDS]
        self.templates = [_split(k.other) if k.other else None for k in KINDS]
        self.user_ctx, self.course_ctx, self.cm_ctx = (
            site.contexts.user,
            site.contexts.course,
            site.contexts.cm,
        )
        self.cm_course, self.cm_instance = cms.course, cms.instance
        fullnames = [json_text(people.fullname(u)) for u in range(people.count + 1)]
        self.pools = {
            "username": pa.array(people.username),
            "fullname": pa.array(fullnames),
            "email": pa.array(people.email),
            "course_short": pa.array([json_text(s) for s in site.courses.shortname]),
            "course_full": pa.array([json_text(s) for s in site.courses.fullname]),
            "modname": pa.array(cms.modname),
            "cmname": pa.array([json_text(s) for s in cms.name]),
            "forumtype": pa.array(cms.forumtype),
            "content": pa.array([json_text(s) for s in CONTENT]),
            "sessionid": pa.array(session_ids),
            "wsfunction": pa.array(WS_FUNCTIONS),
            "enrolname": pa.array(ENROL_NAMES),
        }
        self.ips = pa.array(["", *people.ips])
        self.origins = pa.array(ORIGINS)

    def encode(self, block: LogBlock, first_id: int) -> pa.Table:
        n = len(block)
        kind = block.kind.astype(np.int64)
        level = self.level[kind]
        related = self._by_rule(block, kind, self.related_rule)
        contextid = np.full(n, SYSTEM_CONTEXT, dtype=np.int64)
        instance = np.zeros(n, dtype=np.int64)
        courseid = np.zeros(n, dtype=np.int64)
        user_level = level == USER
        contextid[user_level] = self.user_ctx[related[user_level]]
        instance[user_level] = related[user_level]
        course_level = level == COURSE
        contextid[course_level] = self.course_ctx[block.course[course_level]]
        instance[course_level] = courseid[course_level] = block.course[course_level]
        module_level = level == MODULE
        cms = block.cm[module_level]
        contextid[module_level] = self.cm_ctx[cms]
        instance[module_level] = cms
        courseid[module_level] = self.cm_course[cms]
        columns = {
            "id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            **{name: pool.take(pa.array(kind)) for name, pool in self.catalogue.items()},
            "objectid": _nullable(self._by_rule(block, kind, self.obj_rule)),
            "edulevel": pa.array(self.edulevel[kind]),
            "contextid": pa.array(contextid),
            "contextlevel": pa.array(level),
            "contextinstanceid": pa.array(instance),
            "userid": pa.array(block.user),
            "courseid": pa.array(courseid),
            "relateduserid": _nullable(related),
            "anonymous": pa.array(np.zeros(n, dtype=np.int64)),
            "other": self._other(block, kind, related),
            "timecreated": pa.array(block.time),
            "origin": self.origins.take(pa.array(block.origin.astype(np.int64))),
            "ip": self.ips.take(
                pa.array(np.where(block.ipuser > 0, 1 + 2 * block.ipuser + block.ipvar, 0))
            ),
            "realuserid": _nullable(block.realuser),
        }
        return pa.table([columns[name] for name in LOG_COLUMNS], names=list(LOG_COLUMNS))

    def _by_rule(self, block: LogBlock, kind: np.ndarray, rules: list[str]) -> np.ndarray:
        sources = {
            "col": block.obj if rules is self.obj_rule else block.related,
            "user": block.user,
            "course": block.course,
            "cm": block.cm,
            "instance": self.cm_instance[block.cm],
            "related": block.related,
            "zero": np.zeros(len(block), dtype=np.int64),
        }
        result = np.full(len(block), NULL, dtype=np.int64)
        for rule in set(rules):
            if rule == "none":
                continue
            codes = [code for code, r in enumerate(rules) if r == rule]
            mask = np.isin(kind, codes)
            result[mask] = sources[rule][mask]
        return result

    def _other(self, block: LogBlock, kind: np.ndarray, related: np.ndarray) -> pa.Array:
        order = np.argsort(kind, kind="stable")
        sorted_kinds = kind[order]
        bounds = np.flatnonzero(np.diff(sorted_kinds)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(kind)]])
        parts = []
        for start, end in zip(starts, ends, strict=True):
            if start == end:
                continue
            rows = order[start:end]
            template = self.templates[int(sorted_kinds[start])]
            if template is None:
                parts.append(pa.array(np.full(end - start, "null", dtype=object), type=pa.string()))
                continue
            if all(is_literal for is_literal, _ in template):
                constant = "".join(piece for _, piece in template)
                parts.append(
                    pa.array(np.full(end - start, constant, dtype=object), type=pa.string())
                )
                continue
            pieces = [
                piece if is_literal else self._value(piece, block, rows, related)
                for is_literal, piece in template
            ]
            parts.append(pc.binary_join_element_wise(*pieces, ""))
        if not parts:
            return pa.array([], type=pa.string())
        inverse = np.empty(len(kind), dtype=np.int64)
        inverse[order] = np.arange(len(kind))
        return pa.concat_arrays([p.cast(pa.string()) for p in parts]).take(pa.array(inverse))

    def _value(self, name: str, block: LogBlock, rows: np.ndarray, related: np.ndarray) -> pa.Array:
        numbers = {
            "user": block.user,
            "related": related,
            "course": block.course,
            "aux1": block.aux1,
            "aux2": block.aux2,
        }
        if name in numbers:
            return pc.cast(pa.array(numbers[name][rows]), pa.string())
        if name == "instance":
            return pc.cast(pa.array(self.cm_instance[block.cm[rows]]), pa.string())
        index_of = {
            "username": block.user,
            "fullname": block.user,
            "related_fullname": related,
            "related_username": related,
            "related_email": related,
            "course_short": block.course,
            "course_full": block.course,
            "modname": block.cm,
            "cmname": block.cm,
            "forumtype": block.cm,
            "content": block.aux2,
            "sessionid": block.aux1,
            "wsfunction": block.aux1,
            "enrolname": block.aux1,
        }
        pool = self.pools[name.removeprefix("related_")]
        return pool.take(pa.array(index_of[name][rows] % len(pool)))


def _split(template: str) -> list[tuple[bool, str]]:
    """Template text into (is_literal, text-or-placeholder) pieces."""
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            pieces.append((True, template[position : match.start()]))
        pieces.append((False, match.group(1)))
        position = match.end()
    if position < len(template):
        pieces.append((True, template[position:]))
    return pieces


def _nullable(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=values == NULL)
