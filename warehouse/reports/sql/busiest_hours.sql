-- Busiest hours of each gateway: the ten hours with the most traffic (erlangs) and the ten with the
-- highest peak of concurrent calls, each with its rank by both (ties: the earlier hour first).
-- Tokens: {{sql:gateway_hours}}. Parameters: $zone (labels), $limit.

with hours as (
    select * from {{sql:gateway_hours}}
),

ranked as (
    select
        *,
        row_number() over (partition by gateway order by erlangs desc, peak desc, hour_start) as traffic_rank,
        row_number() over (partition by gateway order by peak desc, erlangs desc, hour_start) as peak_rank
    from hours
),

final as (
    select
        gateway,
        timezone($zone, hour_start) as hour,
        channels,
        erlangs,
        utilisation,
        peak,
        traffic_rank,
        peak_rank
    from ranked
    where traffic_rank <= 10 or peak_rank <= 10
    order by gateway, traffic_rank
    limit $limit
)

select * from final
