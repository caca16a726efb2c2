{#
    The flags of a staged log row that depend on Moodle's other tables as they are now, not on
    the row (stg_moodle__log_events): its user unknown (no `user` row, or not yet), its course,
    context or activity deleted since it was written. The model computes them for the rows it
    stages; on an incremental run its post-hook refresh_log_reference_flags computes them
    again for the rows staged before, so that the table stays what a full rebuild would give
    when a `user` row appears late or a course, context or activity is deleted. One
    definition for both.
#}

{#-
    name -> SQL of each reference flag of the row `alias`, given the relations (or CTE names)
    of the users, courses, contexts and course modules. Membership tests rather than joins:
    each is one hash lookup per row, whatever the planner guesses about the flags.
-#}
{% macro log_reference_flags(alias, users, courses, contexts, course_modules) -%}
    {{ return({
        'has_unknown_user':
            alias ~ ".user_id > 0 and not coalesce(" ~ alias ~ ".user_id in (select "
            ~ "known_users.user_id from " ~ users ~ " as known_users), false)",
        'is_course_deleted_since':
            alias ~ ".course_id is not null and not coalesce(" ~ alias ~ ".course_id in ("
            ~ "select kept_courses.course_id from " ~ courses ~ " as kept_courses), false)",
        'is_context_deleted_since':
            "not coalesce(" ~ alias ~ ".context_id in (select kept_contexts.context_id from "
            ~ contexts ~ " as kept_contexts), false)",
        'is_course_module_deleted_since':
            "coalesce(" ~ alias ~ ".context_level = 70 and " ~ alias
            ~ ".context_instance_id <> 0 and not " ~ alias ~ ".context_instance_id in ("
            ~ "select kept_modules.course_module_id from " ~ course_modules
            ~ " as kept_modules where not kept_modules.is_deletion_in_progress), false)",
    }) }}
{%- endmacro %}


{#-
    is_usable_for_metrics from a row's flags (columns of `alias`, or the SQL given in
    `overrides` for some of them): the one rule the user metrics filter on (doc block
    moodle_hostile_data).
-#}
{% macro log_usability_rule(alias=none, overrides={}) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {%- set flags = {} -%}
    {%- for name in ['has_plausible_time', 'is_duplicate_event', 'has_malformed_event_name',
        'is_missing_course_id', 'is_missing_context_instance', 'has_unknown_user',
        'has_unreadable_other'] -%}
        {%- do flags.update({name: '(' ~ overrides[name] ~ ')' if name in overrides
            else prefix ~ name}) -%}
    {%- endfor -%}
    {{ flags['has_plausible_time'] }}
    and not {{ flags['is_duplicate_event'] }}
    and not {{ flags['has_malformed_event_name'] }}
    and not {{ flags['is_missing_course_id'] }}
    and not {{ flags['is_missing_context_instance'] }}
    and not {{ flags['has_unknown_user'] }}
    and not {{ flags['has_unreadable_other'] }}
{%- endmacro %}


{#-
    Post-hook of stg_moodle__log_events: on an incremental run, the reference flags (and the
    usability they decide) of every staged row computed again from Moodle's tables as they
    are now, writing only the rows whose flags changed. One pass over the table, in the
    model's transaction. Nothing on a full build (every flag was just computed).
-#}
{% macro refresh_log_reference_flags() -%}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set flags = log_reference_flags(
        'staged_rows',
        ref('stg_moodle__users'),
        ref('stg_moodle__courses'),
        ref('stg_moodle__contexts'),
        ref('stg_moodle__course_modules'),
    ) -%}
    {%- set usable = log_usability_rule(
        'staged_rows', {'has_unknown_user': flags['has_unknown_user']},
    ) %}
    update {{ this }} as staged_rows
    set
        has_unknown_user = {{ flags['has_unknown_user'] }},
        is_course_deleted_since = {{ flags['is_course_deleted_since'] }},
        is_context_deleted_since = {{ flags['is_context_deleted_since'] }},
        is_course_module_deleted_since = {{ flags['is_course_module_deleted_since'] }},
        is_usable_for_metrics = {{ usable }}
    where
        staged_rows.has_unknown_user is distinct from ({{ flags['has_unknown_user'] }})
        or staged_rows.is_course_deleted_since
        is distinct from ({{ flags['is_course_deleted_since'] }})
        or staged_rows.is_context_deleted_since
        is distinct from ({{ flags['is_context_deleted_since'] }})
        or staged_rows.is_course_module_deleted_since
        is distinct from ({{ flags['is_course_module_deleted_since'] }})
{%- endmacro %}
