{#
    The learner courses (user, course) an incremental model joining its events with them was
    built with (int_learner_events_classified), so that the next run recomputes the users whose
    learner courses changed since: a new enrolment, a role given or taken away. Those change
    without a log row of the learner's, so the log models' record of what they wrote does not
    name them. Kept in `intermediate.incremental_learner_courses_built`, written in the model's
    transaction; PostgreSQL only (elsewhere the model is a table).
#}

{% macro learner_courses_built_relation() -%}
    {{ return(incremental_bookkeeping_relation('incremental_learner_courses_built')) }}
{%- endmacro %}


{#- Post-hook: the learner courses this run was built with, in place of the last run's. -#}
{% macro record_learner_courses_built() -%}
    {%- if target.type != 'postgres' or config.get('materialized') != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = learner_courses_built_relation() -%}
    select pg_advisory_xact_lock(hashtext('moodle_analytics.incremental_learner_courses_built'));
    create table if not exists {{ built }} (
        model_name varchar(256) not null,
        user_id bigint not null,
        course_id bigint not null
    );
    delete from {{ built }} where model_name = '{{ this.identifier }}';
    insert into {{ built }} (model_name, user_id, course_id)
    select distinct
        '{{ this.identifier }}' as model_name,
        learner_courses.user_id,
        learner_courses.course_id
    from {{ ref('int_learner_enrolments_bounded') }} as learner_courses
{%- endmacro %}


{#-
    The users whose learner courses differ from those the table was built with (config
    whole_users_macro of the model): a course gained or lost. Every user when there is no
    record (a table built by an older version of the project).
-#}
{% macro learner_courses_changed_users_sql() -%}
    {%- set built = learner_courses_built_relation() -%}
    {%- set learner_courses = ref('int_learner_enrolments_bounded') -%}
    {%- set recorded = execute and load_relation(built) is not none and run_query(
        "select count(*) from " ~ built ~ " where model_name = '" ~ this.identifier ~ "'"
    )[0][0] > 0 -%}
    {%- if not recorded -%}
        select learner_courses.user_id
        from {{ learner_courses }} as learner_courses
        union
        select previous_rows.user_id
        from {{ this }} as previous_rows
    {%- else -%}
        select coalesce(current_courses.user_id, built_courses.user_id) as user_id
        from (
            select
                learner_courses.user_id,
                learner_courses.course_id
            from {{ learner_courses }} as learner_courses
        ) as current_courses
        full outer join (
            select
                built_courses.user_id,
                built_courses.course_id
            from {{ built }} as built_courses
            where built_courses.model_name = '{{ this.identifier }}'
        ) as built_courses
            on
                current_courses.user_id = built_courses.user_id
                and current_courses.course_id = built_courses.course_id
        where current_courses.user_id is null or built_courses.user_id is null
    {%- endif -%}
{%- endmacro %}
