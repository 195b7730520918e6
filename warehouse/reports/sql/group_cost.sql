-- Cost per group: calls, time and cost of the filtered calls per one or two dimensions.
-- Tokens: {{calls}}, {{g1}}, {{g2}} (grouping expressions), {{g1_extra}} (a column shown beside g1),
-- {{group_keys}} (the positions grouped by: 1, or 1, 2 when there is a second grouping).
-- Parameters: $zone, $limit. Durations in seconds; cost in the calls' currency.

with filtered as (
    select * from {{calls}}
),

grouped as (
    select
        {{g1}} as g1,
        {{g2}} as g2,
        {{g1_extra}} as g1_extra,
        count(*) as calls,
        sum(duration_s) as duration_s,
        avg(duration_s) as avg_duration_s,
        sum(cost) as cost,
        -- every priced call carries the company currency: any one is it (min() compares every row)
        any_value(currency) as currency
    from filtered
    group by {{group_keys}}
),

final as (
    select
        g1,
        g2,
        g1_extra,
        calls,
        duration_s,
        avg_duration_s,
        cost,
        cost / nullif(calls, 0) as avg_cost,
        cost / nullif(sum(cost) over (), 0) as cost_share,
        currency
    from grouped
    order by cost desc nulls last, calls desc, g1 nulls last, g2 nulls last
    limit $limit
)

select * from final
