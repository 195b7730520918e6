-- Home, month summary: cost, calls, average duration and ring time of the person's own extensions
-- in the current local month, and the calls they missed today (local day). Seconds; cost as DECIMAL.
-- Tokens: {{scope}}. Parameters: $month_day, $month_start (local month start, as UTC day and
-- instant), $today_start (local midnight, UTC instant).

with month as (
    select *
    from calls as c
    where {{scope}}
        and c.counted
        and c.day >= $month_day
        and c.started_at >= $month_start
),

final as (
    select
        sum(cost) as cost,
        min(currency) as currency,
        count(*) as calls,
        avg(duration_s) filter (where answered) as avg_duration_s,
        avg(ring_s) filter (where leg_role = 'callee') as avg_ring_s,
        count(*) filter (where missed and leg_role = 'callee' and started_at >= $today_start) as missed_today
    from month
)

select * from final
