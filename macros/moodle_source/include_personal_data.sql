{#
    Whether personal data (names, e-mail, phone, IP addresses, free text such as
    the log's `other`, forum subjects and messages, grade feedback) may leave
    staging: only when the analyst sets var include_personal_data: true (a YAML
    boolean, or the string 'true' from the command line). Anything else means no.
#}
{% macro include_personal_data() -%}
    {{ return(var('include_personal_data', false) | string | lower == 'true') }}
{%- endmacro %}
