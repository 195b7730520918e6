-- Home, last calls: the newest calls of a person's own extensions since a moment (the engine widens
-- the window until it has enough rows, so a busy person's Home reads only the last day's partition).
-- Tokens: {{scope}} (the person's own extensions, named parameters). Parameters: $since_day (UTC day
-- partition), $since (TIMESTAMPTZ), $limit.

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
        and c.day >= $since_day
        and c.started_at >= $since
),

final as (
    select *
    from recent
    order by started_at desc
    limit $limit
)

select * from final
