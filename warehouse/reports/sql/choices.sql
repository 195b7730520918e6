-- The values of one column among the calls a person may see in the last 400 days, for the lists of
-- the Options form. Tokens: {{scope}}, {{column}} (from the allow-list in engine.CHOICE_COLUMNS).
-- Parameters: the scope's values, $since (UTC day).

with seen as (
    select distinct c.{{column}} as value
    from calls as c
    where {{scope}}
        and c.day >= $since
        and c.{{column}} is not null
        and c.{{column}} <> ''
),

final as (
    select value
    from seen
    order by value
    limit 2000
)

select * from final
