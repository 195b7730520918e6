-- budget_spend: what each budget period has spent, from the priced calls.
-- Inputs: budget_windows (registered by warehouse.budgets: budget_id, period_start, scope, subject,
-- currency, starts_at, ends_at), the calls view. `{scope}` is the caller's scope condition (an
-- administrator's: budgets see everyone they cover) and `{days}` limits the scan to the UTC day
-- partitions the windows touch. Positional parameters: the scope's, then the overall window
-- (first start, last end) and, when `{days}` is used, the first and last UTC day.
-- Cost counts in the budget's currency only; calls priced in another currency are counted apart.

with scoped as (
    select c.started_at, c.user_id, c.department, c.cost_centre, c.cost, c.currency
    from calls as c
    where {scope}
      and c.billable
      and c.cost is not null
      and c.started_at >= ?
      and c.started_at < ?
      {days}
),

by_user as (
    select w.budget_id, w.period_start, w.currency as budget_currency, s.cost, s.currency
    from budget_windows as w
    join scoped as s
      on w.scope = 'user'
     and s.user_id = w.subject
     and s.started_at >= w.starts_at
     and s.started_at < w.ends_at
),

by_department as (
    select w.budget_id, w.period_start, w.currency as budget_currency, s.cost, s.currency
    from budget_windows as w
    join scoped as s
      on w.scope = 'department'
     and s.department = w.subject
     and s.started_at >= w.starts_at
     and s.started_at < w.ends_at
),

by_cost_centre as (
    select w.budget_id, w.period_start, w.currency as budget_currency, s.cost, s.currency
    from budget_windows as w
    join scoped as s
      on w.scope = 'cost_centre'
     and s.cost_centre = w.subject
     and s.started_at >= w.starts_at
     and s.started_at < w.ends_at
),

matched as (
    select * from by_user
    union all
    select * from by_department
    union all
    select * from by_cost_centre
),

final as (
    select
        budget_id,
        period_start,
        coalesce(sum(cost) filter (where currency is null or currency = budget_currency), 0) as spent,
        count(*) filter (where currency is null or currency = budget_currency) as calls,
        count(*) filter (where currency is not null and currency <> budget_currency) as other_currency_calls
    from matched
    group by budget_id, period_start
)

select * from final
