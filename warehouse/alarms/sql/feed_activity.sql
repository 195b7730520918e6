-- Alarm L6: the newest call start per CUCM cluster over the last days (is the feed still running?).
-- Reads the owner's `my_calls`. Parameters: $day_from (the oldest UTC day partition to read).

with recent as (
    select coalesce(cluster, '') as cluster, max(started_at) as last_call
    from my_calls
    where day >= $day_from
    group by 1
),

final as (
    select cluster, last_call
    from recent
    order by cluster
)

select * from final
