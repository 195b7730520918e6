-- Alarm L2: outgoing calls to forbidden numbers or prefixes.
-- Reads the owner's `my_calls`. Parameters: $window_start, $window_end, $day_from, $day_to,
-- $patterns and $exact (parallel lists: the entry, and whether it is a whole number rather than a
-- prefix), $answered_only, $zone, $limit. An entry matches the number as dialled or either
-- international form of it (+39899..., 0039899...).

with patterns as (
    select unnest($patterns) as pattern, unnest($exact) as exact
),

windowed as (
    select *
    from my_calls
    where counted
        and day >= $day_from and day <= $day_to
        and coalesce(ended_at, started_at) >= $window_start
        and coalesce(ended_at, started_at) < $window_end
        and direction = 'outgoing'
        and (answered or not $answered_only)
),

forms as (
    select
        w.*,
        regexp_replace(coalesce(w.other_number, ''), '[^0-9+*#]', '', 'g') as dialled,
        coalesce(w.e164, '') as plus_form,
        case when starts_with(coalesce(w.e164, ''), '+') then '00' || substr(w.e164, 2) else '' end as zero_form
    from windowed as w
),

matched as (
    select
        f.*,
        p.pattern,
        p.exact,
        -- the longest entry that matches names the rule
        row_number() over (partition by f.call_id, f.leg_id order by p.exact desc, length(p.pattern) desc) as pick
    from forms as f
    join patterns as p
        on (p.exact and p.pattern in (f.dialled, f.plus_form, f.zero_form))
        or (
            not p.exact
            and (
                starts_with(f.dialled, p.pattern)
                or (f.plus_form <> '' and starts_with(f.plus_form, p.pattern))
                or (f.zero_form <> '' and starts_with(f.zero_form, p.pattern))
            )
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
        pattern,
        exact,
        destination_type,
        duration_s,
        answered,
        cost,
        currency
    from matched
    where pick = 1
    order by started_at, extension
    limit $limit
)

select * from final
