"""The log events the generator writes, with their columns taken from Moodle's own catalogue.

Each ``Kind`` says which event it is and how its context, objectid, relateduserid and
``other`` are filled; component, action, target, objecttable, crud and edulevel come from
``runner/moodle_facts/events_catalog_moodle45.csv`` so they cannot drift from Moodle.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Context levels (lib/accesslib.php).
SYSTEM, USER, COURSE, MODULE = 10, 30, 50, 70

# Module types a learner can open (labels have no view page), in modules-table order.
VIEWABLE_MODULES = (
    "assign",
    "book",
    "choice",
    "folder",
    "forum",
    "h5pactivity",
    "lesson",
    "page",
    "quiz",
    "resource",
    "url",
)


@dataclass(frozen=True)
class Kind:
    key: str
    eventname: str
    level: int  # context level: 10 system, 30 user (of relateduserid), 50 course, 70 module
    # objectid: "col" (the row's obj), "instance" (module instance), "cm", "user", "course",
    # "related", "none" (NULL)
    objectid: str
    # relateduserid: "col", "user" (the acting user), "zero", "none" (NULL)
    related: str
    # JSON template for ``other``; None writes the string 'null' as Moodle does.
    other: str | None = None


def _view(module: str) -> Kind:
    return Kind(
        f"view_{module}", f"\\mod_{module}\\event\\course_module_viewed", MODULE, "instance", "none"
    )


_COURSE_NAMES = '"courseshortname":"{course_short}","coursefullname":"{course_full}"'
_QUIZ = '{"quizid":"{instance}"}'
_ASSIGN = '{"assignid":"{instance}"}'

KINDS: tuple[Kind, ...] = (
    Kind(
        "login",
        "\\core\\event\\user_loggedin",
        SYSTEM,
        "user",
        "none",
        '{"username":"{username}","extrauserinfo":[]}',
    ),
    Kind(
        "logout",
        "\\core\\event\\user_loggedout",
        SYSTEM,
        "user",
        "none",
        '{"sessionid":"{sessionid}"}',
    ),
    Kind(
        "login_failed",
        "\\core\\event\\user_login_failed",
        SYSTEM,
        "none",
        "none",
        '{"username":"{username}","reason":{aux1}}',
    ),
    Kind(
        "loginas",
        "\\core\\event\\user_loggedinas",
        SYSTEM,
        "user",
        "col",
        '{"originalusername":"{fullname}","loggedinasusername":"{related_fullname}"}',
    ),
    Kind("dashboard", "\\core\\event\\dashboard_viewed", USER, "none", "user"),
    Kind("mycourses", "\\core\\event\\mycourses_viewed", USER, "none", "user"),
    Kind("course", "\\core\\event\\course_viewed", COURSE, "none", "none"),
    Kind(
        "user_list",
        "\\core\\event\\user_list_viewed",
        COURSE,
        "course",
        "none",
        "{" + _COURSE_NAMES + "}",
    ),
    Kind(
        "profile",
        "\\core\\event\\user_profile_viewed",
        COURSE,
        "related",
        "col",
        '{"courseid":"{course}",' + _COURSE_NAMES + "}",
    ),
    Kind(
        "completion",
        "\\core\\event\\course_module_completion_updated",
        MODULE,
        "col",
        "col",
        '{"relateduserid":"{related}","overrideby":null,"completionstate":{aux1}}',
    ),
    Kind(
        "graded",
        "\\core\\event\\user_graded",
        COURSE,
        "col",
        "col",
        '{"itemid":"{aux1}","overridden":false,"finalgrade":{aux2}}',
    ),
    Kind(
        "notification",
        "\\core\\event\\notification_sent",
        SYSTEM,
        "col",
        "col",
        '{"courseid":"{course}"}',
    ),
    Kind(
        "ws_call",
        "\\core\\event\\webservice_function_called",
        SYSTEM,
        "none",
        "none",
        '{"function":"{wsfunction}"}',
    ),
    Kind(
        "token_created",
        "\\core\\event\\webservice_token_created",
        SYSTEM,
        "col",
        "user",
        '{"auto":true}',
    ),
    Kind("token_sent", "\\core\\event\\webservice_token_sent", SYSTEM, "col", "none"),
    Kind("user_created", "\\core\\event\\user_created", USER, "related", "col"),
    Kind(
        "user_deleted",
        "\\core\\event\\user_deleted",
        USER,
        "related",
        "col",
        '{"username":"{related_username}","email":"{related_email}","idnumber":"","picture":0,'
        '"mnethostid":1}',
    ),
    Kind(
        "enrolled",
        "\\core\\event\\user_enrolment_created",
        COURSE,
        "col",
        "col",
        '{"enrol":"{enrolname}"}',
    ),
    Kind(
        "enrol_updated",
        "\\core\\event\\user_enrolment_updated",
        COURSE,
        "col",
        "col",
        '{"enrol":"{enrolname}"}',
    ),
    Kind(
        "role_assigned",
        "\\core\\event\\role_assigned",
        COURSE,
        "col",
        "col",
        '{"id":{aux1},"component":"","itemid":0}',
    ),
    Kind(
        "course_created",
        "\\core\\event\\course_created",
        COURSE,
        "course",
        "none",
        '{"shortname":"{course_short}","fullname":"{course_full}"}',
    ),
    Kind(
        "cm_created",
        "\\core\\event\\course_module_created",
        MODULE,
        "cm",
        "none",
        '{"modulename":"{modname}","instanceid":{instance},"name":"{cmname}"}',
    ),
    Kind(
        "enrol_instance",
        "\\core\\event\\enrol_instance_created",
        COURSE,
        "col",
        "none",
        '{"enrol":"{enrolname}"}',
    ),
    Kind(
        "config_log",
        "\\core\\event\\config_log_created",
        SYSTEM,
        "col",
        "none",
        '{"name":"timezone","oldvalue":"99","value":"Africa\\/Nairobi","plugin":null}',
    ),
    *(_view(module) for module in VIEWABLE_MODULES),
    Kind("discussion_viewed", "\\mod_forum\\event\\discussion_viewed", MODULE, "col", "none"),
    Kind(
        "discussion_created",
        "\\mod_forum\\event\\discussion_created",
        MODULE,
        "col",
        "none",
        '{"forumid":{instance}}',
    ),
    Kind(
        "post_created",
        "\\mod_forum\\event\\post_created",
        MODULE,
        "col",
        "none",
        '{"discussionid":{aux1},"forumid":{instance},"forumtype":"{forumtype}"}',
    ),
    Kind(
        "post_uploaded",
        "\\mod_forum\\event\\assessable_uploaded",
        MODULE,
        "col",
        "none",
        '{"content":"{content}","pathnamehashes":[],"discussionid":{aux1},'
        '"triggeredfrom":"forum_add_new_post"}',
    ),
    Kind(
        "discussion_uploaded",
        "\\mod_forum\\event\\assessable_uploaded",
        MODULE,
        "col",
        "none",
        '{"content":"{content}","pathnamehashes":[],"discussionid":{aux1},'
        '"triggeredfrom":"forum_add_discussion"}',
    ),
    Kind(
        "discussion_subscribed",
        "\\mod_forum\\event\\discussion_subscription_created",
        MODULE,
        "col",
        "user",
        '{"forumid":{instance},"discussion":{aux1}}',
    ),
    Kind("quiz_started", "\\mod_quiz\\event\\attempt_started", MODULE, "col", "user"),
    Kind(
        "quiz_attempt_viewed",
        "\\mod_quiz\\event\\attempt_viewed",
        MODULE,
        "col",
        "user",
        '{"quizid":"{instance}","page":"{aux1}"}',
    ),
    Kind(
        "quiz_updated",
        "\\mod_quiz\\event\\attempt_updated",
        MODULE,
        "col",
        "user",
        '{"quizid":"{instance}","page":"{aux1}"}',
    ),
    Kind("quiz_summary", "\\mod_quiz\\event\\attempt_summary_viewed", MODULE, "col", "user", _QUIZ),
    Kind(
        "quiz_submitted",
        "\\mod_quiz\\event\\attempt_submitted",
        MODULE,
        "col",
        "user",
        '{"submitterid":"{user}","quizid":"{instance}","studentisonline":true}',
    ),
    Kind("quiz_reviewed", "\\mod_quiz\\event\\attempt_reviewed", MODULE, "col", "user", _QUIZ),
    Kind(
        "quiz_report",
        "\\mod_quiz\\event\\report_viewed",
        MODULE,
        "none",
        "none",
        '{"quizid":"{instance}","reportname":"overview"}',
    ),
    Kind(
        "assign_status",
        "\\mod_assign\\event\\submission_status_viewed",
        MODULE,
        "none",
        "none",
        _ASSIGN,
    ),
    Kind(
        "assign_form",
        "\\mod_assign\\event\\submission_form_viewed",
        MODULE,
        "none",
        "user",
        _ASSIGN,
    ),
    Kind(
        "assign_uploaded",
        "\\assignsubmission_onlinetext\\event\\assessable_uploaded",
        MODULE,
        "col",
        "none",
        '{"pathnamehashes":[],"content":"{content}"}',
    ),
    Kind(
        "assign_text_created",
        "\\assignsubmission_onlinetext\\event\\submission_created",
        MODULE,
        "col",
        "user",
        '{"submissionid":"{aux1}","submissionattempt":"0","submissionstatus":"submitted",'
        '"onlinetextwordcount":{aux2},"groupid":0,"groupname":null}',
    ),
    Kind(
        "assign_submitted",
        "\\mod_assign\\event\\assessable_submitted",
        MODULE,
        "col",
        "none",
        '{"submission_editable":true}',
    ),
    Kind(
        "assign_grading_table",
        "\\mod_assign\\event\\grading_table_viewed",
        MODULE,
        "none",
        "none",
        _ASSIGN,
    ),
    Kind(
        "assign_grading_form",
        "\\mod_assign\\event\\grading_form_viewed",
        MODULE,
        "none",
        "col",
        _ASSIGN,
    ),
    Kind("assign_graded", "\\mod_assign\\event\\submission_graded", MODULE, "col", "col"),
    Kind("assign_feedback", "\\mod_assign\\event\\feedback_viewed", MODULE, "col", "user", _ASSIGN),
    Kind("grades_user", "\\gradereport_user\\event\\grade_report_viewed", COURSE, "none", "user"),
    Kind(
        "grades_overview",
        "\\gradereport_overview\\event\\grade_report_viewed",
        COURSE,
        "none",
        "user",
    ),
    Kind(
        "grades_grader", "\\gradereport_grader\\event\\grade_report_viewed", COURSE, "none", "none"
    ),
    Kind(
        "log_report",
        "\\report_log\\event\\report_viewed",
        COURSE,
        "none",
        "zero",
        '{"groupid":0,"date":0,"modid":0,"modaction":"","logformat":""}',
    ),
)

K: dict[str, int] = {kind.key: code for code, kind in enumerate(KINDS)}
VIEW_KIND_BY_MODULE: dict[str, int] = {module: K[f"view_{module}"] for module in VIEWABLE_MODULES}


@dataclass(frozen=True)
class CatalogueEntry:
    eventname: str
    component: str
    action: str
    target: str
    objecttable: str | None  # None when the event has no object table (stored as NULL)
    crud: str
    edulevel: int


@cache
def moodle_event_catalogue() -> dict[str, CatalogueEntry]:
    """Every concrete event class of Moodle 4.5, keyed by eventname with its leading backslash."""
    path = resources.files("runner.moodle_facts").joinpath("events_catalog_moodle45.csv")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["eventname"]: CatalogueEntry(
            row["eventname"],
            row["component"],
            row["action"],
            row["target"],
            row["objecttable"] or None,
            row["crud"],
            int(row["edulevel"]),
        )
        for row in rows
        if row["crud"]  # unknown_logged can never be triggered
    }


@cache
def kind_entries() -> tuple[CatalogueEntry, ...]:
    """The catalogue entry of each kind, in kind-code order."""
    catalogue = moodle_event_catalogue()
    return tuple(catalogue[kind.eventname] for kind in KINDS)
