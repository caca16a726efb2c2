"""Derive seeds/moodle_event_classification.csv from Moodle 4.5's event catalogue.

Each event starts from the fallback rule for unknown events (by crud and edulevel, the same
rule as macros/classify_unknown_event.sql); the first matching catalogue rule replaces it, and a
reviewed per-event override replaces both. `classification_rule` names the step that decided,
so the seed shows which events follow the fallback and which are refined or overridden.

    python -m runner.moodle.event_classification > seeds/moodle_event_classification.csv
    python -m runner.moodle.event_classification --out seeds/moodle_event_classification.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.paths import PROJECT_ROOT

CATALOGUE_PATH = (
    Path(__file__).resolve().parent.parent / "moodle_facts" / "events_catalog_moodle45.csv"
)
SEED_PATH = PROJECT_ROOT / "seeds" / "moodle_event_classification.csv"

LEARNER_ACTION = "learner_action"
STAFF_ACTION = "staff_action"
SYSTEM_CONSEQUENCE = "system_consequence"
WRAPPER = "wrapper"
FAILED_ATTEMPT = "failed_attempt"
ACTOR_KINDS = (LEARNER_ACTION, STAFF_ACTION, SYSTEM_CONSEQUENCE, WRAPPER, FAILED_ATTEMPT)

VIEW = "view"
WRITE = "write"
ASSESSMENT = "assessment"
SOCIAL = "social"
NAVIGATION = "navigation"
NONE = "none"
ENGAGEMENT_KINDS = (VIEW, WRITE, ASSESSMENT, SOCIAL, NAVIGATION, NONE)

SEED_COLUMNS = (
    "event_name",
    "component",
    "action",
    "target",
    "crud",
    "edulevel",
    "actor_kind",
    "engagement_kind",
    "is_learner_action",
    "classification_rule",
)

# Moodle's edulevel constants (\core\event\base::LEVEL_*).
LEVEL_OTHER, LEVEL_TEACHING, LEVEL_PARTICIPATING = 0, 1, 2


class CatalogueError(ValueError):
    """The catalogue or the override list is not what the generator expects; one line says why."""


@dataclass(frozen=True)
class CatalogueEvent:
    event_name: str
    component: str
    action: str
    target: str
    crud: str | None
    edulevel: int | None


@dataclass(frozen=True)
class Classification:
    actor_kind: str
    engagement_kind: str
    rule: str

    def __post_init__(self) -> None:
        if self.actor_kind not in ACTOR_KINDS:
            raise CatalogueError(f"unknown actor_kind {self.actor_kind!r} in {self.rule}")
        if self.engagement_kind not in ENGAGEMENT_KINDS:
            raise CatalogueError(f"unknown engagement_kind {self.engagement_kind!r} in {self.rule}")
        # Only a learner's own action has an engagement kind; everything else is 'none'.
        if (self.actor_kind == LEARNER_ACTION) == (self.engagement_kind == NONE):
            raise CatalogueError(
                f"{self.rule}: engagement_kind {self.engagement_kind!r} "
                f"does not fit actor_kind {self.actor_kind!r}"
            )

    @property
    def is_learner_action(self) -> bool:
        return self.actor_kind == LEARNER_ACTION


def classify_unknown_event(crud: str | None, edulevel: int | None) -> Classification:
    """The rule for events the catalogue lacks; mirrors macros/classify_unknown_event.sql."""
    if edulevel == LEVEL_PARTICIPATING and crud == "r":
        return Classification(LEARNER_ACTION, VIEW, "fallback_participating_read")
    if edulevel == LEVEL_PARTICIPATING and crud in ("c", "u", "d"):
        return Classification(LEARNER_ACTION, WRITE, "fallback_participating_change")
    if edulevel == LEVEL_TEACHING:
        return Classification(STAFF_ACTION, NONE, "fallback_teaching")
    return Classification(SYSTEM_CONSEQUENCE, NONE, "fallback_other")


@dataclass(frozen=True)
class Rule:
    """A pattern over the catalogue's columns that refines the fallback for a family of events."""

    name: str
    matches: Callable[[CatalogueEvent], bool]
    actor_kind: str
    engagement_kind: str


def _is(component: str | None, target: str, *actions: str) -> Callable[[CatalogueEvent], bool]:
    """Matches component (None = any) and target, and one of actions (none given = any)."""

    def matches(event: CatalogueEvent) -> bool:
        return (
            (component is None or event.component == component)
            and event.target == target
            and (not actions or event.action in actions)
        )

    return matches


def _any(*predicates: Callable[[CatalogueEvent], bool]) -> Callable[[CatalogueEvent], bool]:
    return lambda event: any(predicate(event) for predicate in predicates)


# Pages a learner opens to find their way rather than to study content (Moodle's course page,
# dashboard, lists, profiles, grade overviews, search): presence, but not content reading.
NAVIGATION_TARGETS = (
    "badge",
    "badge_listing",
    "course",
    "course_category",
    "course_information",
    "course_module_instance_list",
    "course_resources_list",
    "course_user_report",
    "dashboard",
    "mycourses",
    "notification",
    "recent_activity",
    "search_results",
    "section",
    "user_list",
    "user_profile",
)

# The learner's side of graded work: quiz attempts, assignment submission pages and feedback,
# lesson questions, H5P/SCORM results, workshop peer assessment.
ASSESSMENT_WORK = _any(
    _is("mod_quiz", "attempt"),
    _is("mod_quiz", "attempt_summary"),
    _is("mod_quiz", "attempt_question"),
    _is("mod_assign", "assessable", "submitted"),
    _is("mod_assign", "feedback", "viewed"),
    _is("mod_assign", "submission_status", "viewed"),
    _is("mod_assign", "submission_form", "viewed"),
    _is("mod_assign", "submission_confirmation_form", "viewed"),
    _is("mod_assign", "remove_submission_form", "viewed"),
    _is("mod_assign", "statement", "accepted"),
    _is("mod_lesson", "question", "answered", "viewed"),
    _is("mod_lesson", "lesson", "started", "ended", "resumed", "restarted"),
    _is("mod_h5pactivity", "statement", "received"),
    _is("mod_scorm", "scoreraw", "submitted"),
    _is("mod_scorm", "status", "submitted"),
    _is("mod_workshop", "submission", "assessed", "reassessed"),
)

# First match wins; every rule is applied on top of the fallback and before the overrides.
RULES: tuple[Rule, ...] = (
    Rule(
        # Login and logout mark presence; the product's sessions start at logins.
        "rule_session_presence",
        _is("core", "user", "loggedin", "loggedout"),
        LEARNER_ACTION,
        NAVIGATION,
    ),
    Rule(
        # The typed username's account gets the row; nobody may have acted as that user.
        "rule_failed_login",
        _any(_is("core", "user_login", "failed"), _is("core", "webservice_login", "failed")),
        FAILED_ATTEMPT,
        NONE,
    ),
    Rule(
        # Written beside every forum post and assignment/workshop submission for plagiarism
        # plugins; the post or submission itself is the action, so this would count it twice.
        "rule_plagiarism_companion_row",
        _is(None, "assessable", "uploaded"),
        SYSTEM_CONSEQUENCE,
        NONE,
    ),
    Rule(
        # Forum subscriptions are written by the post form's "subscribe to discussion" default
        # and by enrolment in auto-subscribe forums: a preference, not a contribution.
        "rule_forum_subscription_preference",
        _any(_is("mod_forum", "subscription"), _is("mod_forum", "discussion_subscription")),
        SYSTEM_CONSEQUENCE,
        NONE,
    ),
    Rule(
        # Pop-ups the page shows by itself; Moodle files them as participating.
        "rule_user_tour_interface",
        lambda event: event.component == "tool_usertours",
        SYSTEM_CONSEQUENCE,
        NONE,
    ),
    Rule(
        # Personal messages are sent by a person (notifications, the system's messages, are
        # \core\event\notification_sent); Moodle files them as 'other', yet they are the user's own.
        "rule_personal_messaging",
        _any(
            _is("core", "message"),
            _is("core", "group_message"),
            _is("core", "message_contact"),
            _is("core", "message_user"),
        ),
        LEARNER_ACTION,
        SOCIAL,
    ),
    Rule(
        # Forum posts and discussions, chat messages and live meetings address other people:
        # Moodle's social-breadth indicator, not private writing.
        "rule_conversation_contribution",
        _any(
            lambda event: (
                event.component == "mod_forum"
                and event.target in ("post", "discussion")
                and event.crud in ("c", "u")
                and event.edulevel == LEVEL_PARTICIPATING
            ),
            _is("mod_chat", "message", "sent"),
            _is("mod_bigbluebuttonbn", "meeting", "joined", "left"),
        ),
        LEARNER_ACTION,
        SOCIAL,
    ),
    Rule(
        "rule_participant_comment",
        lambda event: (
            (event.target == "comment" or event.target.endswith("_comment"))
            and event.edulevel == LEVEL_PARTICIPATING
        ),
        LEARNER_ACTION,
        SOCIAL,
    ),
    Rule(
        # Teachers' sides of the same objects (regrade, reopen, delete) stay teaching events.
        "rule_assessment_work",
        lambda event: event.edulevel != LEVEL_TEACHING and ASSESSMENT_WORK(event),
        LEARNER_ACTION,
        ASSESSMENT,
    ),
    Rule(
        "rule_navigation_page",
        lambda event: (
            event.edulevel != LEVEL_TEACHING
            and (
                (event.action == "viewed" and event.target in NAVIGATION_TARGETS)
                or event.action == "searched"
                or (event.target == "grade_report" and event.edulevel == LEVEL_PARTICIPATING)
            )
        ),
        LEARNER_ACTION,
        NAVIGATION,
    ),
)


@dataclass(frozen=True)
class Override:
    actor_kind: str
    engagement_kind: str
    reason: str


# Reviewed one by one: events whose catalogue facts (crud, edulevel, names) mislead.
OVERRIDES: dict[str, Override] = {
    # The mobile app's REST call; the event it causes (a view, a post) is logged beside it.
    r"\core\event\webservice_function_called": Override(WRAPPER, NONE, "mobile_app_call_wrapper"),
    # login/token.php: the app's log-in, the only presence row app users ever write.
    r"\core\event\webservice_token_sent": Override(LEARNER_ACTION, NAVIGATION, "mobile_app_login"),
    # userid is the admin who starts "Log in as", not the learner.
    r"\core\event\user_loggedinas": Override(STAFF_ACTION, NONE, "admin_starts_log_in_as"),
    r"\tool_mfa\event\user_failed_mfa": Override(FAILED_ATTEMPT, NONE, "failed_second_factor"),
    r"\quizaccess_seb\event\access_prevented": Override(
        FAILED_ATTEMPT, NONE, "quiz_blocked_without_safe_exam_browser"
    ),
    # Written by grading, by a learner's own quiz submission and (userid -1) by the regrade.
    r"\core\event\user_graded": Override(SYSTEM_CONSEQUENCE, NONE, "grade_written_by_moodle"),
    # Recalculated by Moodle after a view or submission; view completion writes two per view.
    r"\core\event\course_module_completion_updated": Override(
        SYSTEM_CONSEQUENCE, NONE, "completion_recalculated"
    ),
    r"\core\event\course_completed": Override(SYSTEM_CONSEQUENCE, NONE, "completion_aggregated"),
    # Saving a course's completion settings (course/completion.php): teachers only.
    r"\core\event\course_completion_updated": Override(
        STAFF_ACTION, NONE, "completion_settings_saved"
    ),
    r"\core\event\badge_awarded": Override(SYSTEM_CONSEQUENCE, NONE, "awarded_by_criteria"),
    r"\core\event\competency_evidence_created": Override(
        SYSTEM_CONSEQUENCE, NONE, "evidence_written_by_rules"
    ),
    r"\mod_quiz\event\attempt_becameoverdue": Override(
        SYSTEM_CONSEQUENCE, NONE, "quiz_time_limit_passed"
    ),
    r"\mod_quiz\event\attempt_abandoned": Override(
        SYSTEM_CONSEQUENCE, NONE, "quiz_attempt_closed_by_moodle"
    ),
    r"\mod_workshop\event\phase_automatically_switched": Override(
        SYSTEM_CONSEQUENCE, NONE, "scheduled_phase_switch"
    ),
    r"\core_h5p\event\h5p_deleted": Override(SYSTEM_CONSEQUENCE, NONE, "h5p_cache_cleanup"),
    # Site-administration templates, filed as participating.
    **{
        rf"\quizaccess_seb\event\template_{action}": Override(
            SYSTEM_CONSEQUENCE, NONE, "site_admin_template"
        )
        for action in ("created", "deleted", "disabled", "enabled", "updated")
    },
    # Filed as participating, but only teachers hold the capability.
    r"\mod_glossary\event\entry_approved": Override(STAFF_ACTION, NONE, "teacher_moderation"),
    r"\mod_glossary\event\entry_disapproved": Override(STAFF_ACTION, NONE, "teacher_moderation"),
    **{
        rf"\mod_glossary\event\category_{action}": Override(
            STAFF_ACTION, NONE, "teacher_manages_glossary"
        )
        for action in ("created", "deleted", "updated")
    },
    **{
        rf"\mod_wiki\event\{name}": Override(STAFF_ACTION, NONE, "teacher_manages_wiki")
        for name in ("page_deleted", "page_version_deleted", "page_version_restored")
    },
    r"\mod_feedback\event\response_deleted": Override(
        STAFF_ACTION, NONE, "teacher_deletes_responses"
    ),
    r"\qbank_comment\event\comment_created": Override(STAFF_ACTION, NONE, "question_bank_comment"),
    r"\qbank_comment\event\comment_deleted": Override(STAFF_ACTION, NONE, "question_bank_comment"),
    # Filed as 'other', yet the user does them themselves.
    r"\mod_bigbluebuttonbn\event\recording_viewed": Override(
        LEARNER_ACTION, VIEW, "recording_watched"
    ),
    r"\core\event\prediction_action_started": Override(
        LEARNER_ACTION, NAVIGATION, "insight_link_followed"
    ),
    # A 4.5 subsection is a course section shown as a module: a course page, not content.
    r"\mod_subsection\event\course_module_viewed": Override(
        LEARNER_ACTION, NAVIGATION, "subsection_is_a_course_section"
    ),
}


def classify_by_rules(event: CatalogueEvent) -> Classification:
    """The first matching catalogue rule, else the fallback; overrides not applied."""
    for rule in RULES:
        if rule.matches(event):
            return Classification(rule.actor_kind, rule.engagement_kind, rule.name)
    return classify_unknown_event(event.crud, event.edulevel)


def classify(event: CatalogueEvent) -> Classification:
    """The event's reviewed override if it has one, else the rules and fallback."""
    override = OVERRIDES.get(event.event_name)
    if override is None:
        return classify_by_rules(event)
    return Classification(
        override.actor_kind, override.engagement_kind, f"override_{override.reason}"
    )


def _parse_edulevel(text: str, event_name: str) -> int | None:
    if text == "":
        return None
    if text not in ("0", "1", "2"):
        raise CatalogueError(f"{event_name}: edulevel {text!r} is not 0, 1 or 2")
    return int(text)


def read_catalogue(path: Path = CATALOGUE_PATH) -> list[CatalogueEvent]:
    """The catalogue's events, in file order (sorted by event name)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError as error:
        raise CatalogueError(f"event catalogue not found: {path}") from error
    required = {"eventname", "component", "action", "target", "crud", "edulevel"}
    if not rows or not required <= set(rows[0]):
        raise CatalogueError(f"{path} lacks the columns {', '.join(sorted(required))}")
    events = [
        CatalogueEvent(
            event_name=row["eventname"],
            component=row["component"],
            action=row["action"],
            target=row["target"],
            crud=row["crud"] or None,
            edulevel=_parse_edulevel(row["edulevel"], row["eventname"]),
        )
        for row in rows
    ]
    names = [event.event_name for event in events]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{path} lists an event more than once")
    return events


def check_overrides(events: Iterable[CatalogueEvent]) -> None:
    """Every override names a catalogue event, so a renamed or removed event is noticed."""
    stale = sorted(set(OVERRIDES) - {event.event_name for event in events})
    if stale:
        raise CatalogueError(f"overrides for events missing from the catalogue: {', '.join(stale)}")


def seed_rows(events: Sequence[CatalogueEvent]) -> list[dict[str, str]]:
    check_overrides(events)
    rows = []
    for event in events:
        classification = classify(event)
        rows.append(
            {
                "event_name": event.event_name,
                "component": event.component,
                "action": event.action,
                "target": event.target,
                "crud": event.crud or "",
                "edulevel": "" if event.edulevel is None else str(event.edulevel),
                "actor_kind": classification.actor_kind,
                "engagement_kind": classification.engagement_kind,
                "is_learner_action": "true" if classification.is_learner_action else "false",
                "classification_rule": classification.rule,
            }
        )
    return rows


def render_seed_csv(catalogue_path: Path = CATALOGUE_PATH) -> str:
    """The seed's full text: header plus one row per catalogue event, '\\n' line endings."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SEED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(seed_rows(read_catalogue(catalogue_path)))
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runner.moodle.event_classification",
        description="Write the event classification seed derived from Moodle's event catalogue.",
    )
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    parser.add_argument(
        "--catalogue", type=Path, default=CATALOGUE_PATH, help="events_catalog CSV to read"
    )
    arguments = parser.parse_args(argv)
    try:
        text = render_seed_csv(arguments.catalogue)
        if arguments.out is None:
            sys.stdout.write(text)
        else:
            arguments.out.write_text(text, encoding="utf-8")
    except (CatalogueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
