{#
    The engagement-band and at-risk thresholds, read from project vars and checked once here
    so that a mistyped var fails the compile with one clear line instead of odd SQL. The
    rules themselves are written down in docs/engagement_bands.md and the model's docs.
#}
{% macro engagement_band_setting(name) -%}
    {%- set limits = {
        'band_inactivity_days': [1, 365],
        'band_struggling_missed_deadlines': [1, 1000],
        'band_struggling_grade_share': [0, 1],
        'band_well_grade_share': [0, 1],
        'band_well_min_active_days': [0, 7],
        'band_well_min_cognitive_depth': [0, 4],
        'risk_struggling_weeks': [1, 52],
    } -%}
    {%- if name not in limits -%}
        {{ exceptions.raise_compiler_error("unknown engagement band setting: " ~ name) }}
    {%- endif -%}
    {%- set value = var(name) -%}
    {%- set low, high = limits[name] -%}
    {%- if value is not number or value is boolean or value < low or value > high -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a number from " ~ low ~ " to " ~ high ~ ", got: " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
