-- Call status per group: how many calls were answered, missed (incoming) or not answered (placed).
-- Tokens: {{calls}}, {{g1}}, {{g2}}, {{g1_extra}}, {{group_keys}}. Parameters: $zone, $limit.

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
        count_if(answered) as answered,
        count_if(not answered and missed and leg_role <> 'caller') as missed,
        count_if(not answered and not (missed and leg_role <> 'caller')) as not_answered
    from filtered
    group by {{group_keys}}
),

final as (
    select
        *,
        answered / nullif(calls, 0) as answer_rate
    from grouped
    order by g1 nulls last, g2 nulls last
    limit $limit
)

select * from final
