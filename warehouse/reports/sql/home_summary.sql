-- Home, month summary: totals of the person's own extensions from the start of the local month,
-- over some UTC day partitions, and the calls they missed today (local day). Seconds; cost as DECIMAL.
-- The engine adds these to the day totals of its index for the days in between.
-- Tokens: {{scope}}, {{days}} (the day partitions to read). Parameters: $month_start (local month
-- start), $today_start (local midnight), both UTC instants.

with month as (
    select *
    from calls as c
    where {{scope}}
        and c.counted
        and c.day in ({{days}})
        and c.started_at >= $month_start
),

final as (
    select
        count(*) as calls,
        sum(cost) as cost,
        min(currency) as currency,
        count(*) filter (where answered) as answered,
        sum(duration_s) filter (where answered) as answered_duration_s,
        count(*) filter (where leg_role = 'callee') as offered,
        sum(ring_s) filter (where leg_role = 'callee') as offered_ring_s,
        count(*) filter (where missed and leg_role = 'callee' and started_at >= $today_start) as missed_today
    from month
)

select * from final
