-- Traffic per group: calls by direction, answered and missed, time and cost per one or two dimensions.
-- Tokens: {{calls}}, {{g1}}, {{g2}}, {{g1_extra}}, {{group_keys}}. Parameters: $zone, $limit. Durations in seconds.

with filtered as (
    select * from {{calls}}
),

grouped as (
    select
        {{g1}} as g1,
        {{g2}} as g2,
        {{g1_extra}} as g1_extra,
        count(*) as calls,
        -- count_if: a FILTER clause on count(*) costs DuckDB more per row
        count_if(direction = 'outgoing') as outgoing,
        count_if(direction = 'incoming') as incoming,
        count_if(direction = 'internal') as internal,
        count_if(answered) as answered,
        count_if(missed) as missed,
        sum(duration_s) as duration_s,
        avg(duration_s) filter (where answered) as avg_duration_s,
        sum(cost) as cost,
        -- every priced call carries the company currency: any one is it (min() compares every row)
        any_value(currency) as currency
    from filtered
    group by {{group_keys}}
),

final as (
    select *
    from grouped
    order by calls desc, g1 nulls last, g2 nulls last
    limit $limit
)

select * from final
