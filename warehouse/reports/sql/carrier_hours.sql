-- Carrier load per gateway and hour: the seconds its channels were held in each UTC hour (a call that
-- spans hours is split across them), in erlangs (held seconds / 3600) and as utilisation (held
-- seconds / (3600 x channels)), and the peak of concurrent calls in the hour.
-- Tokens: {{sql:carrier_legs}}, {{sql:carrier_buckets}} and {{sql:carrier_sweep}} (over the same
-- legs, computed once; run with hours: $interval_s is 3600 for the reports that read this). The same
-- rows from the stored quarter hours: load_hours.sql. Output: gateway, channels, hour_start (UTC
-- instant), legs, held_s, connected_s (answered legs), seizure_s (legs never answered), erlangs,
-- utilisation, peak.

with legs as materialized (
    select * from {{sql:carrier_legs}}
),

per_hour as (
    select * from {{sql:carrier_buckets}}
),

peaks as (
    select * from {{sql:carrier_sweep}}
),

final as (
    select
        h.gateway,
        h.channels,
        h.bucket_start as hour_start,
        h.legs_up as legs,
        h.held_s,
        h.connected_s,
        h.seizure_s,
        h.held_s / 3600.0 as erlangs,
        h.held_s / (3600.0 * nullif(h.channels, 0)) as utilisation,
        p.peak
    from per_hour as h
    left join peaks as p on p.gateway = h.gateway and p.bucket_start = h.bucket_start
)

select * from final
