-- Concurrent calls per gateway and interval, by a sweep over the carrier legs: each leg adds one at
-- the instant it takes its channel and takes one away when it lets it go (a channel let go at an
-- instant is free for a call taken at the same instant); the running sum is the number of calls up.
-- Each interval starts with the calls already up (a marker at its first instant), so a call that
-- began before midnight, or on the previous day's partition, counts in the intervals it spans.
-- Intervals of 15 minutes and of an hour follow the UTC clock (their local labels differ from the
-- hour only in zones a half or quarter hour off UTC); a day is the local calendar day of $zone.
-- Tokens: {{sql:carrier_legs}}. Parameters: $interval_s (900, 3600 or 86400), $zone, $period_start,
-- $period_end. Output: gateway, channels, bucket_start (UTC instant), peak, peak_at, seized (legs
-- that took a channel in the interval; not those already up when the period began).

with legs as (
    select * from {{sql:carrier_legs}}
),

events as (
    select gateway, held_from as t, 1 as delta, not clipped as seized from legs
    union all
    select gateway, held_to as t, -1 as delta, false as seized from legs
),

spans as (
    select gateway, min(t) as first_t, max(t) as last_t
    from events
    group by gateway
),

markers as (
    select gateway, unnest(generate_series(
        to_timestamp(floor(epoch(first_t) / $interval_s) * $interval_s),
        last_t,
        to_seconds($interval_s)
    )) as t, 0 as delta, false as seized
    from spans
    where $interval_s < 86400

    union all

    select gateway, timezone($zone, unnest(generate_series(
        cast(cast(timezone($zone, first_t) as date) as timestamp),
        cast(timezone($zone, last_t) as timestamp),
        interval 1 day
    ))) as t, 0 as delta, false as seized
    from spans
    where $interval_s >= 86400
),

swept as (
    select
        gateway,
        t,
        delta,
        seized,
        sum(delta) over (partition by gateway order by t, delta rows between unbounded preceding and current row)
            as level
    from (select * from events union all select * from markers)
),

bucketed as (
    select
        *,
        case
            when $interval_s >= 86400
                then timezone($zone, cast(cast(timezone($zone, t) as date) as timestamp))
            else to_timestamp(floor(epoch(t) / $interval_s) * $interval_s)
        end as bucket_start
    from swept
),

peaks as (
    select
        *,
        max(level) over (partition by gateway, bucket_start) as peak
    from bucketed
),

per_bucket as (
    select
        gateway,
        bucket_start,
        max(peak) as peak,
        min(t) filter (where level = peak) as peak_at,
        count(*) filter (where seized) as seized
    from peaks
    group by gateway, bucket_start
),

final as (
    select p.gateway, c.channels, p.bucket_start, p.peak, p.peak_at, p.seized
    from per_bucket as p
    left join (select distinct gateway, channels from legs) as c on c.gateway = p.gateway
)

select * from final
