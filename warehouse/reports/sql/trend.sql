-- Trend: calls, time and cost per period bucket (hour, day, week or month in the report's zone).
-- Tokens: {{calls}}, {{bucket}} (from the allow-list of granularities). Parameters: $zone, $limit.

with filtered as (
    select * from {{calls}}
),

bucketed as (
    select
        {{bucket}} as g1,
        count(*) as calls,
        count(*) filter (where direction = 'outgoing') as outgoing,
        count(*) filter (where direction = 'incoming') as incoming,
        count(*) filter (where direction = 'internal') as internal,
        count(*) filter (where missed) as missed,
        sum(duration_s) as duration_s,
        sum(cost) as cost,
        min(currency) as currency
    from filtered
    group by 1
),

final as (
    select *
    from bucketed
    order by g1
    limit $limit
)

select * from final
