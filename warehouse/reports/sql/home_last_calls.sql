-- Home, last calls: the newest calls of a person's own extensions, read only from the UTC day
-- partitions that hold them (the engine picks the newest such days from its extension-day index).
-- Tokens: {{scope}} (the person's own extensions), {{days}} (one placeholder per day). Parameters:
-- the scope's and days' values, $limit.

with recent as (
    select
        started_at,
        direction,
        leg_role,
        answered,
        missed,
        extension,
        user_name,
        other_number,
        duration_s,
        ring_s,
        cost,
        currency,
        gateway
    from calls as c
    where {{scope}}
        and c.counted
        and c.day in ({{days}})
),

final as (
    select *
    from recent
    order by started_at desc
    limit $limit
)

select * from final
