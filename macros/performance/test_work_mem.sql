{#
    dbt's data tests on PostgreSQL, run with the memory of var model_work_mem: a test of a
    whole log table hashes or sorts every row (unique keys, anti-joins between log models),
    which at the server's default work_mem (4MB) spills gigabytes to temporary files. Tests
    take no pre-hook, so the `set local` goes before the test's query, in its transaction
    (dbt runs each test in one); the query itself is dbt's own. Found by dbt's dispatch of
    get_test_sql, which looks in the root project first.
#}
{% macro postgres__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    {{ model_work_mem() }};
    {{ dbt.default__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) }}
{%- endmacro %}
