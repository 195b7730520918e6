-- Alarm L1: calls outside working hours, each judged in its site's time zone.
-- Reads the owner's `my_calls`. Parameters: $window_start, $window_end (calls that ended in
-- [start, end)), $day_from, $day_to (UTC day partitions to read), $directions, $sites (none: all),
-- $answered_only, $min_duration (seconds); the sites' zones as parallel lists $zone_sites,
-- $zone_names and $default_zone; working hours as parallel lists $hour_sites ('' = every other
-- site), $hour_days (ISO weekdays), $hour_open, $hour_close (minutes after midnight); $closed_dates
-- (local days with no working hours); $zone (the owner's, for the times shown); $limit.

with zones as (
    select unnest($zone_sites) as site, unnest($zone_names) as zone
),

hours as (
    select
        unnest($hour_sites) as site,
        unnest($hour_days) as days,
        unnest($hour_open) as open_minute,
        unnest($hour_close) as close_minute
),

windowed as (
    select *
    from my_calls
    where counted
        and day >= $day_from and day <= $day_to
        and coalesce(ended_at, started_at) >= $window_start
        and coalesce(ended_at, started_at) < $window_end
        and direction in (select unnest($directions))
        and (answered or not $answered_only)
        and coalesce(duration_s, 0) >= $min_duration
        and (len($sites) = 0 or site in (select unnest($sites)))
),

localised as (
    select
        w.*,
        timezone(coalesce(z.zone, $default_zone), w.started_at) as site_time,
        -- a site without hours of its own follows the default ones
        case when w.site in (select site from hours where site <> '') then w.site else '' end as rule_site
    from windowed as w
    left join zones as z on z.site = w.site
),

placed as (
    select
        l.*,
        isodow(l.site_time) as weekday,
        hour(l.site_time) * 60 + minute(l.site_time) as minute_of_day,
        cast(l.site_time as date) as site_day
    from localised as l
),

judged as (
    select
        p.*,
        not list_contains($closed_dates, p.site_day) and exists (
            select 1 from hours as h
            where h.site = p.rule_site
                and list_contains(h.days, p.weekday)
                and case
                    when h.open_minute = h.close_minute then true
                    when h.open_minute < h.close_minute
                        then p.minute_of_day >= h.open_minute and p.minute_of_day < h.close_minute
                    else p.minute_of_day >= h.open_minute or p.minute_of_day < h.close_minute
                end
        ) as inside
    from placed as p
),

final as (
    select
        timezone($zone, started_at) as started_at,
        site_time,
        site,
        extension,
        user_name,
        department,
        direction,
        other_number,
        destination_type,
        duration_s,
        cost,
        currency
    from judged
    where not inside
    order by started_at, extension
    limit $limit
)

select * from final
