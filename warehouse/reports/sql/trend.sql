-- Trend: calls, time and cost per period bucket (hour, day, week or month in the report's zone).
-- Tokens: {{calls}}, {{bucket}} (from the allow-list of granularities). Parameters: $zone, $limit.

with filtered as (
    select
        started_at,
        direction,
        currency,
        1 as calls,
        case when missed then 1 else 0 end as missed,
        duration_s,
        cost
    from {{calls}}
)

select * from {{sql:trend_buckets}} as t
order by g1
limit $limit
