-- outgoing_by_hour: a person's outgoing calls per local hour since an instant (the gadget's chart).
-- Reads my_calls (scoped by warehouse.access). Parameters: $zone (IANA name), $since and $first_day
-- (the UTC day of $since, so only the partitions from then on are read).

with outgoing as (
    select
        date_trunc('hour', timezone($zone, c.started_at)) as local_hour,
        c.duration_s,
        c.cost,
        c.currency
    from my_calls as c
    where c.counted
        and c.direction = 'outgoing'
        and c.day >= $first_day
        and c.started_at >= $since
),

final as (
    select
        local_hour,
        count(*) as calls,
        sum(duration_s) as duration_s,
        sum(cost) as cost,
        max(currency) as currency
    from outgoing
    group by local_hour
    order by local_hour
)

select * from final
