-- Alarm X6: extensions or cost centres whose calls or cost in a window are far above their own
-- baseline: the same weekday and hours of the previous weeks.
-- Reads the owner's `my_calls`. Token {{key}}: the grouping column (allow-list in checks.py).
-- Parameters: $weeks_back, $window_starts, $window_ends (parallel lists; week 0 is the window
-- judged, 1..N the same local hours 1..N weeks before), $days (the UTC day partitions they touch),
-- $k (spreads), $min_extra_calls, $min_extra_cost. Weeks without calls count as zero.

with windows as (
    select unnest($weeks_back) as week, unnest($window_starts) as window_start, unnest($window_ends) as window_end
),

candidates as (
    select {{key}} as target, user_name, started_at, cost
    from my_calls
    where counted
        and day in (select unnest($days))
        and {{key}} is not null
        and {{key}} <> ''
),

per_week as (
    select
        w.week,
        c.target,
        any_value(c.user_name) as user_name,
        count(*) as calls,
        coalesce(sum(c.cost), 0) as cost
    from candidates as c
    join windows as w on c.started_at >= w.window_start and c.started_at < w.window_end
    group by w.week, c.target
),

targets as (
    select target, any_value(user_name) as user_name
    from per_week
    where week = 0
    group by target
),

filled as (
    select
        t.target,
        w.week,
        coalesce(p.calls, 0) as calls,
        cast(coalesce(p.cost, 0) as double) as cost
    from targets as t
    cross join windows as w
    left join per_week as p on p.target = t.target and p.week = w.week
),

baseline as (
    select
        target,
        median(calls) as calls_median,
        -- 1.4826 x the median absolute deviation: the standard deviation, were the weeks normal
        1.4826 * mad(calls) as calls_spread,
        median(cost) as cost_median,
        1.4826 * mad(cost) as cost_spread
    from filled
    where week > 0
    group by target
),

judged as (
    select
        f.target,
        t.user_name,
        f.calls,
        b.calls_median,
        b.calls_spread,
        f.cost,
        b.cost_median,
        b.cost_spread,
        f.calls - b.calls_median > $k * b.calls_spread
            and f.calls - b.calls_median >= $min_extra_calls as calls_unusual,
        f.cost - b.cost_median > $k * b.cost_spread
            and f.cost - b.cost_median >= $min_extra_cost as cost_unusual
    from filled as f
    join baseline as b on b.target = f.target
    join targets as t on t.target = f.target
    where f.week = 0
),

final as (
    select *
    from judged
    where calls_unusual or cost_unusual
    order by cost - cost_median desc, calls - calls_median desc, target
)

select * from final
