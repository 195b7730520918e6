-- Alarm L3: users, departments or cost centres whose calls cost more than a threshold in a period.
-- Reads the owner's `my_calls`. Token {{key}} / {{label}}: the grouping column and its display
-- column (from the allow-list in warehouse/alarms/checks.py). Parameters: $period_start,
-- $period_end, $day_from, $day_to, $subjects (none: all), $threshold (company currency).

with period_calls as (
    select *
    from my_calls
    where counted
        and cost is not null
        and day >= $day_from and day <= $day_to
        and started_at >= $period_start
        and started_at < $period_end
),

grouped as (
    select
        {{key}} as subject,
        any_value({{label}}) as name,
        currency,
        count(*) as calls,
        sum(cost) as cost
    from period_calls
    where {{key}} is not null
        and {{key}} <> ''
        and (len($subjects) = 0 or {{key}} in (select unnest($subjects)))
    group by {{key}}, currency
),

final as (
    select subject, name, calls, cost, currency
    from grouped
    where cost > $threshold
    order by cost desc, subject
)

select * from final
