-- Concurrent calls per gateway and interval, by a sweep over the carrier legs: each leg adds one at
-- the instant it takes its channel and takes one away when it lets it go (a channel let go at an
-- instant is free for a call taken at the same instant); the running sum is the number of calls up.
-- Each interval starts with a marker carrying the calls already up, so a call that began before
-- midnight, or on the previous day's partition, counts in the intervals it spans; an event belongs
-- to the interval of the last marker before it. Intervals of 15 minutes and of an hour follow the
-- UTC clock (their local labels differ from the hour only in zones a half or quarter hour off UTC);
-- a day is the local calendar day of $zone. Times are epoch seconds until the end (cheaper to sort).
-- Reads `legs` (the rows of carrier_legs.sql) from the query that includes it, so that a query
-- needing the legs for more than this computes them once. Parameters: $interval_s (900, 3600 or
-- 86400), $zone. Output: gateway, channels, bucket_start (UTC instant), peak, peak_at, seized (legs
-- that took a channel in the interval; not those already up when the period began).

with events as (
    select gateway, epoch(held_from) as t, 1 as delta, not clipped as seized from legs
    union all
    select gateway, epoch(held_to) as t, -1 as delta, false as seized from legs
),

spans as (
    select gateway, min(t) as first_t, max(t) as last_t
    from events
    group by gateway
),

markers as (
    select
        gateway,
        unnest(range(cast(floor(first_t / $interval_s) as bigint), cast(floor(last_t / $interval_s) as bigint) + 1))
            * $interval_s as t,
        0 as delta,
        false as seized
    from spans
    where $interval_s < 86400

    union all

    select gateway, epoch(timezone($zone, local_day)) as t, 0 as delta, false as seized
    from (
        select
            gateway,
            unnest(generate_series(
                cast(cast(timezone($zone, to_timestamp(first_t)) as date) as timestamp),
                cast(timezone($zone, to_timestamp(last_t)) as timestamp),
                interval 1 day
            )) as local_day
        from spans
        where $interval_s >= 86400
    )
),

swept as (
    select
        gateway,
        t,
        delta,
        seized,
        sum(delta) over sweep as level,
        max(case when delta = 0 then t end) over sweep as bucket_t
    from (select * from events union all select * from markers)
    window sweep as (partition by gateway order by t, delta rows between unbounded preceding and current row)
),

per_bucket as (
    select
        gateway,
        bucket_t,
        max(level) as peak,
        -- the first instant the peak was reached
        arg_max(t, {'level': level, 'earlier': -t}) as peak_t,
        count(*) filter (where seized) as seized
    from swept
    group by gateway, bucket_t
),

final as (
    select
        p.gateway,
        c.channels,
        to_timestamp(p.bucket_t) as bucket_start,
        p.peak,
        to_timestamp(p.peak_t) as peak_at,
        p.seized
    from per_bucket as p
    left join (select distinct gateway, channels from legs) as c on c.gateway = p.gateway
)

select * from final
