{#
    The customer's attributes that every customer-period mart carries, in one order: today's
    (as in dim_customers), the date they are taken at in the period, and those valid then
    (int_customer_period_attributes). `relation` qualifies them (e.g. 'attributes'); none:
    bare names. The one list of these columns: a mart that carries them calls this.
#}
{% macro customer_period_attribute_columns(relation=none) -%}
    {%- set columns = [
        'industry', 'region', 'account_manager', 'country_code', 'status',
        'attributes_as_of', 'attributes_valid_from',
        'industry_in_period', 'region_in_period', 'account_manager_in_period',
        'country_code_in_period', 'status_in_period',
    ] -%}
    {%- for column in columns -%}
        {{ relation ~ '.' if relation else '' }}{{ column }}{{ ',' if not loop.last }}
    {% endfor -%}
{%- endmacro %}
