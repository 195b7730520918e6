-- Each gateway's load per quarter hour (UTC), worked out by the calls build and stored per UTC day
-- (lake dataset `gateway_load`, warehouse/gateway_load.py) so that the capacity reports over a month
-- or a year read quarters instead of sweeping every channel seizure (load_hours.sql, load_peaks.sql).
-- Every figure of a longer interval follows from its quarters: seconds and seizures add up, the peak
-- of an hour is the highest of its quarters' (each quarter's sweep starts from the calls already up),
-- and the legs up in an hour are those up in its first quarter plus those that took a channel in
-- the others. Tokens: {{calls}} (the carrier rows of the days, and of the day before: legs still up),
-- {{devices}}; {{sql:carrier_buckets}} and {{sql:carrier_sweep}} over them. Parameters: $period_start,
-- $period_end (the UTC days stored), $interval_s (900).
-- Output: gateway, channels, quarter_start, legs_up (legs holding a channel in the quarter), legs_from
-- (legs that took it in the quarter, or were already up when the days stored begin), held_s,
-- connected_s (answered legs), seizure_s (legs never answered), peak, peak_at, seized.

with legs as materialized (
    select * from {{sql:carrier_legs}}
),

per_quarter as (
    select * from {{sql:carrier_buckets}}
),

peaks as (
    select * from {{sql:carrier_sweep}}
),

final as (
    select
        q.gateway,
        q.channels,
        q.bucket_start as quarter_start,
        q.legs_up,
        q.legs_from,
        q.held_s,
        q.connected_s,
        q.seizure_s,
        p.peak,
        p.peak_at,
        p.seized
    from per_quarter as q
    left join peaks as p on p.gateway = q.gateway and p.bucket_start = q.bucket_start
)

select * from final
