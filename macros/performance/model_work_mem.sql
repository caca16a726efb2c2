{#
    Pre-hook of the models that sort or hash the whole log (sessionisation windows, the joins
    of fact_activity, the copy search of stg_moodle__log_events) or every learner week (the
    progress models), and of every data test (postgres__get_test_sql): gives the model's own
    transaction the memory of var model_work_mem for its sorts and hashes (work_mem) and for
    building its indexes in the same transaction (maintenance_work_mem), so that they stay in
    memory instead of spilling to temporary files at the server's defaults (4MB and 64MB).
    `set local` ends with the transaction: the server's settings and every other model stay
    as they are. PostgreSQL only; DuckDB and Spark manage their own memory.
#}
{% macro model_work_mem() -%}
    {{ return(adapter.dispatch('model_work_mem', 'moodle_analytics')()) }}
{%- endmacro %}

{% macro default__model_work_mem() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__model_work_mem() -%}
    {%- set memory = model_work_mem_setting() -%}
    {#- Index builds in the leader alone: parallel workers hand their sorted runs to the
        leader through temporary files whatever the memory (about 200 MB per log table at
        4 million rows), and on a machine of few cores they gain little. -#}
    {{ return("set local work_mem = '" ~ memory ~ "'; set local maintenance_work_mem = '"
        ~ memory ~ "'; set local max_parallel_maintenance_workers = 0") }}
{%- endmacro %}


{#- Var model_work_mem, checked: a whole number and a unit PostgreSQL accepts (kB, MB, GB). -#}
{% macro model_work_mem_setting() -%}
    {%- set value = var('model_work_mem', '256MB') | string -%}
    {%- if not modules.re.fullmatch('[1-9][0-9]{0,6}(kB|MB|GB)', value) -%}
        {{ exceptions.raise_compiler_error(
            "var model_work_mem must be a whole number and a unit, kB, MB or GB (e.g. 256MB), "
            ~ "got: " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
