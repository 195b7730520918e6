-- Concurrent calls per gateway and interval (the rows of carrier_sweep.sql) from the stored quarter
-- hours (gateway_quarters.sql): an interval's peak is the highest of its quarters', reached first in
-- the earliest of them that reaches it; its seizures add up. Intervals of 15 minutes and of an hour
-- follow the UTC clock, a day is the local calendar day of $zone. Tokens: {{gateway_load}} (the
-- period's quarters). Parameters: $interval_s (900, 3600 or 86400), $zone.

with quarters as (
    select * from {{gateway_load}}
),

bucketed as (
    select
        *,
        case
            when $interval_s >= 86400
                then timezone($zone, date_trunc('day', timezone($zone, quarter_start)))
            else to_timestamp(floor(epoch(quarter_start) / $interval_s) * $interval_s)
        end as bucket_start
    from quarters
),

final as (
    select
        gateway,
        any_value(channels) as channels,
        bucket_start,
        max(peak) as peak,
        arg_max(peak_at, {'level': peak, 'earlier': -epoch(peak_at)}) as peak_at,
        sum(seized) as seized
    from bucketed
    group by gateway, bucket_start
)

select * from final
