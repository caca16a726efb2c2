{#
    A time zone name goes into SQL as a string literal, so it is checked first:
    an IANA name ('UTC', 'Africa/Nairobi', 'America/Argentina/Buenos_Aires',
    'Etc/GMT+3') or the compile stops with one line naming the problem.
#}
{% macro validated_timezone(zone) -%}
    {%- set zone_text = zone | string -%}
    {%- if not modules.re.fullmatch('[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*', zone_text) -%}
        {{ exceptions.raise_compiler_error(
            "var reporting_timezone must be an IANA time zone name such as 'UTC' or "
            ~ "'Africa/Nairobi', got: " ~ zone_text) }}
    {%- endif -%}
    {{ return(zone_text) }}
{%- endmacro %}
