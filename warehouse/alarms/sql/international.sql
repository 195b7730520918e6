-- Alarm L5: outgoing international calls (optionally of some sites only).
-- Reads the owner's `my_calls`. Parameters: $window_start, $window_end, $day_from, $day_to, $sites
-- (none: all), $answered_only, $min_duration (seconds), $zone, $limit.

with windowed as (
    select *
    from my_calls
    where counted
        and day >= $day_from and day <= $day_to
        and coalesce(ended_at, started_at) >= $window_start
        and coalesce(ended_at, started_at) < $window_end
        and direction = 'outgoing'
        and destination_type = 'international'
        and (answered or not $answered_only)
        and coalesce(duration_s, 0) >= $min_duration
        and (len($sites) = 0 or site in (select unnest($sites)))
),

final as (
    select
        timezone($zone, started_at) as started_at,
        site,
        extension,
        user_name,
        department,
        direction,
        other_number,
        nation,
        duration_s,
        cost,
        currency
    from windowed
    order by started_at, extension
    limit $limit
)

select * from final
