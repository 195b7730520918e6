-- Home, last calls from the index of each extension's newest calls (the table home_recent, which
-- Home keeps in the warehouse database), with the extension's owner joined as the calls view does.
-- Tokens: {{scope}} (the person's own extensions). Parameters: the scope's values, $limit.

with recent as (
    select c.*, u.user_name
    from home_recent as c
    left join directory_extensions as a
        on a.extension = c.extension
        and (a.valid_from is null or c.started_at >= a.valid_from)
        and (a.valid_to is null or c.started_at < a.valid_to)
    left join directory_users as u on u.user_id = a.user_id
    where {{scope}}
),

final as (
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
    from recent
    order by started_at desc
    limit $limit
)

select * from final
