-- Answer rate per group: calls offered to a line (it was the called party), answered, missed, and
-- how long callers waited. Tokens: {{calls}}, {{g1}}, {{g2}}, {{g1_extra}}. Parameters: $zone, $limit.
-- Times in seconds; "within 20 s" is the usual service-level target of a call centre.

with offered as (
    select * from {{calls}}
    where leg_role = 'callee'
),

grouped as (
    select
        {{g1}} as g1,
        {{g2}} as g2,
        {{g1_extra}} as g1_extra,
        count(*) as offered,
        count(*) filter (where answered) as answered,
        count(*) filter (where not answered) as missed,
        avg(ring_s) filter (where answered) as avg_answer_s,
        max(ring_s) filter (where answered) as max_answer_s,
        count(*) filter (where answered and ring_s <= 20) as answered_20s,
        avg(ring_s) filter (where not answered) as avg_abandon_s
    from offered
    group by 1, 2
),

final as (
    select
        g1,
        g2,
        g1_extra,
        offered,
        answered,
        missed,
        answered / nullif(offered, 0) as answer_rate,
        answered_20s / nullif(offered, 0) as service_level,
        avg_answer_s,
        max_answer_s,
        avg_abandon_s
    from grouped
    order by offered desc, g1 nulls last, g2 nulls last
    limit $limit
)

select * from final
