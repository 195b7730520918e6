-- Alarm L7: outgoing calls to destinations the numbering plan does not recognise.
-- Reads the owner's `my_calls`. Parameters: $window_start, $window_end, $day_from, $day_to, $zone,
-- $limit. `total` counts them all, whatever the limit on the rows listed.

with windowed as (
    select *
    from my_calls
    where counted
        and day >= $day_from and day <= $day_to
        and coalesce(ended_at, started_at) >= $window_start
        and coalesce(ended_at, started_at) < $window_end
        and direction = 'outgoing'
        and (
            destination_type = 'unknown'
            or starts_with(lower(coalesce(rate_ref, '')), 'unrated: unknown destination')
        )
),

final as (
    select
        timezone($zone, started_at) as started_at,
        extension,
        user_name,
        department,
        direction,
        other_number,
        gateway,
        duration_s,
        rate_ref,
        count(*) over () as total
    from windowed
    order by started_at, extension
    limit $limit
)

select * from final
