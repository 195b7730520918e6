-- Time to answer: calls offered to a line, by how long the caller waited, and those never answered.
-- Tokens: {{calls}}. Parameters: $zone, $limit. Seconds.

with offered as (
    select * from {{calls}}
    where leg_role = 'callee'
),

bucketed as (
    select
        case
            when not answered then 7
            when ring_s < 5 then 1
            when ring_s < 10 then 2
            when ring_s < 20 then 3
            when ring_s < 30 then 4
            when ring_s < 60 then 5
            else 6
        end as bucket,
        answered
    from offered
),

counted as (
    select bucket, count(*) as calls
    from bucketed
    group by bucket
),

final as (
    select
        case bucket
            when 1 then '0–5 s'
            when 2 then '5–10 s'
            when 3 then '10–20 s'
            when 4 then '20–30 s'
            when 5 then '30–60 s'
            when 6 then '60+ s'
            else 'missed'
        end as g1,
        calls,
        calls / sum(calls) over () as share,
        case when bucket < 7 then sum(calls) over (order by bucket) / sum(calls) over () end as cumulative_share
    from counted
    order by bucket
    limit $limit
)

select * from final
