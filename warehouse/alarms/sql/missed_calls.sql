-- Alarm L4: extensions (or a list of extensions together) with at least N missed calls.
-- Reads the owner's `my_calls`. Parameters: $window_start, $window_end, $day_from, $day_to,
-- $extensions (none: every extension), $together (count the list as one), $group_name (the list's
-- name when together), $threshold, $zone.

with windowed as (
    select *
    from my_calls
    where counted
        and missed
        and day >= $day_from and day <= $day_to
        and coalesce(ended_at, started_at) >= $window_start
        and coalesce(ended_at, started_at) < $window_end
        and extension is not null
        and (len($extensions) = 0 or extension in (select unnest($extensions)))
),

grouped as (
    select
        case when $together then $group_name else extension end as target,
        case when $together then null else any_value(user_name) end as user_name,
        count(*) as missed_calls,
        min(started_at) as first_missed,
        max(started_at) as last_missed
    from windowed
    group by 1
),

final as (
    select
        target,
        user_name,
        missed_calls,
        timezone($zone, first_missed) as first_missed,
        timezone($zone, last_missed) as last_missed
    from grouped
    where missed_calls >= $threshold
    order by missed_calls desc, target
)

select * from final
