-- Carrier load per gateway and interval of $interval_s seconds (UTC clock), from the carrier legs:
-- the seconds held, connected and in seizures, the legs up and those that took their channel in the
-- interval (carrier_buckets.sql), and the peak of calls up, when it was first reached and the calls
-- that took a channel (carrier_sweep.sql), both over the same legs, computed once. Read by
-- carrier_hours.sql (hours) and gateway_quarters.sql (the quarters the calls build stores).
-- Tokens: {{sql:carrier_legs}} (its {{calls}}, {{devices}}). Parameters: those of carrier_legs.sql,
-- $interval_s, $zone. Output: gateway, channels, bucket_start, legs_up, legs_from, held_s,
-- connected_s, seizure_s, peak, peak_at, seized.

with legs as materialized (
    select * from {{sql:carrier_legs}}
),

buckets as (
    select * from {{sql:carrier_buckets}}
),

peaks as (
    select * from {{sql:carrier_sweep}}
),

final as (
    select
        b.gateway,
        b.channels,
        b.bucket_start,
        b.legs_up,
        b.legs_from,
        b.held_s,
        b.connected_s,
        b.seizure_s,
        p.peak,
        p.peak_at,
        p.seized
    from buckets as b
    left join peaks as p on p.gateway = b.gateway and p.bucket_start = b.bucket_start
)

select * from final
