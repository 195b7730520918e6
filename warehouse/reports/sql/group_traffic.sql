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
        count(*) filter (where direction = 'outgoing') as outgoing,
        count(*) filter (where direction = 'incoming') as incoming,
        count(*) filter (where direction = 'internal') as internal,
        count(*) filter (where answered) as answered,
        count(*) filter (where missed) as missed,
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
