"""What Moodle's own functions do to its tables when an admin deletes a course, an activity
or a user, and when its log cleanup runs: the rows they delete and rewrite, and the log rows
they leave (docs/history.md)."""

from __future__ import annotations

from typing import Any

from runner.postgres.connection import ConnectionInfo


def execute(info: ConnectionInfo, statements: str) -> None:
    connection = info.connect(autocommit=False)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statements)
    finally:
        connection.close()


def query(info: ConnectionInfo, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql``, committed (some statements delete or insert and return a count)."""
    connection = info.connect()
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def delete_course(info: ConnectionInfo, course_id: int) -> None:
    """As delete_course() leaves the tables: the course, its contexts and everything in them
    go (modules, forums, enrolments, role assignments, grades, completions); the log stays."""
    execute(
        info,
        f"""
        create temporary table doomed_contexts as
            select child.id
            from mdl_context as course_context
            join mdl_context as child
              on child.id = course_context.id or child.path like course_context.path || '/%%'
            where course_context.contextlevel = 50 and course_context.instanceid = {course_id};
        delete from mdl_role_assignments where contextid in (select id from doomed_contexts);
        delete from mdl_course_modules_completion where coursemoduleid in
            (select id from mdl_course_modules where course = {course_id});
        delete from mdl_forum_posts where discussion in
            (select id from mdl_forum_discussions where course = {course_id});
        delete from mdl_forum_discussions where course = {course_id};
        delete from mdl_forum where course = {course_id};
        delete from mdl_grade_grades where itemid in
            (select id from mdl_grade_items where courseid = {course_id});
        delete from mdl_grade_items where courseid = {course_id};
        delete from mdl_grade_categories where courseid = {course_id};
        delete from mdl_course_modules where course = {course_id};
        delete from mdl_user_enrolments where enrolid in
            (select id from mdl_enrol where courseid = {course_id});
        delete from mdl_enrol where courseid = {course_id};
        delete from mdl_context where id in (select id from doomed_contexts);
        delete from mdl_course where id = {course_id};
        """,
    )


def flag_module_for_deletion(info: ConnectionInfo, course_module_id: int) -> None:
    """course_delete_module(), first step: the module is flagged, an ad-hoc task does the rest."""
    execute(
        info,
        f"update mdl_course_modules set deletioninprogress = 1 where id = {course_module_id}",
    )


def finish_module_deletion(info: ConnectionInfo, course_module_id: int) -> None:
    """course_delete_module(), the ad-hoc task: the module row, its context, its completion
    rows, its grade item and grades go; the log stays."""
    execute(
        info,
        f"""
        delete from mdl_grade_grades where itemid in (
            select items.id from mdl_grade_items as items
            join mdl_course_modules as cm on cm.course = items.courseid
            join mdl_modules as m on m.id = cm.module and m.name = items.itemmodule
            where cm.id = {course_module_id} and items.iteminstance = cm.instance);
        delete from mdl_grade_items where id in (
            select items.id from mdl_grade_items as items
            join mdl_course_modules as cm on cm.course = items.courseid
            join mdl_modules as m on m.id = cm.module and m.name = items.itemmodule
            where cm.id = {course_module_id} and items.iteminstance = cm.instance);
        delete from mdl_course_modules_completion where coursemoduleid = {course_module_id};
        delete from mdl_context where contextlevel = 70 and instanceid = {course_module_id};
        delete from mdl_course_modules where id = {course_module_id};
        """,
    )


def delete_user(info: ConnectionInfo, user_id: int) -> None:
    """As delete_user() leaves the tables: the user row stays, flagged, username rewritten to
    '<email>.<time>'; role assignments, enrolments, grades and the user context go."""
    execute(
        info,
        f"""
        update mdl_user set deleted = 1, username = email || '.' || 1554076800,
            email = md5(username), idnumber = '', picture = 0, timemodified = 1554076800
        where id = {user_id};
        delete from mdl_role_assignments where userid = {user_id};
        delete from mdl_user_enrolments where userid = {user_id};
        delete from mdl_grade_grades where userid = {user_id};
        delete from mdl_context where contextlevel = 30 and instanceid = {user_id};
        """,
    )


def clean_up_log(info: ConnectionInfo, before: str) -> int:
    """The scheduled cleanup task: every row older than the limit goes, by age only."""
    [(count,)] = query(
        info,
        "with deleted as (delete from mdl_logstore_standard_log"
        " where timecreated < extract(epoch from %s::timestamptz) returning 1)"
        " select count(*) from deleted",
        (f"{before} 00:00:00+00",),
    )
    return count
