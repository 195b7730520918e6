-- Alarm X4: gateways or sites whose calls' average MOS is below, or packet loss above, a threshold.
-- Reads the owner's `my_calls`. Token {{group}}: the grouping column (allow-list in checks.py).
-- Parameters: $window_start, $window_end, $day_from, $day_to, $mos_below, $loss_above (percent),
-- $min_calls (calls with quality figures needed before a group is judged).

with windowed as (
    select *
    from my_calls
    where counted
        and day >= $day_from and day <= $day_to
        and coalesce(ended_at, started_at) >= $window_start
        and coalesce(ended_at, started_at) < $window_end
        and (mos is not null or packet_loss_pct is not null)
),

grouped as (
    select
        coalesce({{group}}, '') as target,
        count(*) as calls,
        avg(mos) as avg_mos,
        min(mos) as min_mos,
        avg(packet_loss_pct) as avg_loss,
        max(packet_loss_pct) as max_loss,
        count(*) filter (where mos < $mos_below or packet_loss_pct > $loss_above) as poor_calls
    from windowed
    group by 1
),

final as (
    select target, calls, poor_calls, avg_mos, min_mos, avg_loss, max_loss
    from grouped
    where calls >= $min_calls
        and (avg_mos < $mos_below or avg_loss > $loss_above)
    order by avg_mos nulls last, avg_loss desc, target
)

select * from final
