-- Carrier load per gateway and hour: the seconds its channels were held in each UTC hour (a call that
-- spans hours is split across them), in erlangs (held seconds / 3600) and as utilisation (held
-- seconds / (3600 x channels)), and the peak of concurrent calls in the hour.
-- Tokens: {{sql:carrier_legs}}, {{sql:carrier_sweep}} (over the same legs, computed once; run with
-- hours: $interval_s is 3600 for the reports that read this). Output: gateway, channels, hour_start
-- (UTC instant), legs, held_s, connected_s (answered legs), seizure_s (legs never answered),
-- erlangs, utilisation, peak.

with legs as materialized (
    select * from {{sql:carrier_legs}}
),

-- hours as epoch hour numbers (cheaper than calendar arithmetic on every leg)
hours as (
    select
        *,
        unnest(range(cast(floor(epoch(held_from) / 3600) as bigint), cast(ceil(epoch(held_to) / 3600) as bigint)))
            as hour_no
    from legs
),

split as (
    select
        gateway,
        channels,
        leg,
        answered,
        hour_no,
        least(epoch(held_to), (hour_no + 1) * 3600) - greatest(epoch(held_from), hour_no * 3600) as seconds
    from hours
),

per_hour as (
    select
        gateway,
        any_value(channels) as channels,
        to_timestamp(hour_no * 3600) as hour_start,
        count(*) as legs,
        sum(seconds) as held_s,
        coalesce(sum(seconds) filter (where answered), 0) as connected_s,
        coalesce(sum(seconds) filter (where not answered), 0) as seizure_s
    from split
    group by gateway, hour_no
),

peaks as (
    select * from {{sql:carrier_sweep}}
),

final as (
    select
        h.gateway,
        h.channels,
        h.hour_start,
        h.legs,
        h.held_s,
        h.connected_s,
        h.seizure_s,
        h.held_s / 3600.0 as erlangs,
        h.held_s / (3600.0 * nullif(h.channels, 0)) as utilisation,
        p.peak
    from per_hour as h
    left join peaks as p on p.gateway = h.gateway and p.bucket_start = h.hour_start
)

select * from final
