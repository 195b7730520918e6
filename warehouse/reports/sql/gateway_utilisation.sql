-- Gateway and trunk utilisation per hour: how much of each gateway's channels the calls held, hour by
-- hour (see carrier_legs.sql for what holds a channel, carrier_hours.sql for the split into hours).
-- Tokens: {{sql:gateway_hours}}. Parameters: $zone (labels), $limit. Seconds; erlangs.

with hours as (
    select * from {{sql:gateway_hours}}
),

final as (
    select
        gateway,
        timezone($zone, hour_start) as hour,
        channels,
        legs,
        connected_s,
        seizure_s,
        erlangs,
        utilisation,
        peak
    from hours
    order by gateway, hour_start
    limit $limit
)

select * from final
