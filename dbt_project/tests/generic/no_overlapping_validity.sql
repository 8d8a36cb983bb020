{#
    Two validity intervals [from, to) of the same partition overlap when each starts before
    the other ends (an empty `to` is open). Each failing row names the partition and the two
    ids. As a non-empty result alone would not show them in the build log, the test also
    raises an error whose message names them (macro raise_error). The filter on the message
    makes every engine evaluate it: an unused column may be dropped before it is computed.
#}
{% test no_overlapping_validity(model, partition_by, id_column, from_column, to_column) %}

with

intervals as (

    select
        {{ partition_by }} as partition_value,
        {{ id_column }} as interval_id,
        {{ from_column }} as valid_from,
        coalesce({{ to_column }}, date '9999-12-31') as valid_to
    from {{ model }}

),

overlapping_pairs as (

    select
        first_interval.partition_value as {{ partition_by }},
        first_interval.interval_id as {{ id_column }}_a,
        second_interval.interval_id as {{ id_column }}_b
    from intervals as first_interval
    inner join intervals as second_interval
        on
            first_interval.partition_value = second_interval.partition_value
            and first_interval.interval_id < second_interval.interval_id
            and first_interval.valid_from < second_interval.valid_to
            and second_interval.valid_from < first_interval.valid_to

),

final as (

    select
        {{ partition_by }},
        {{ id_column }}_a,
        {{ id_column }}_b,
        {{ raise_error(
            "'overlapping validity in " ~ model.identifier ~ " for " ~ partition_by ~ " '"
            ~ " || " ~ partition_by ~ " || ': " ~ id_column ~ " '"
            ~ " || " ~ id_column ~ "_a || ' and ' || " ~ id_column ~ "_b"
        ) }} as failure_message
    from overlapping_pairs

)

select * from final
where failure_message is null

{% endtest %}
