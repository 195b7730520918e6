-- Call list: the filtered calls one by one, with the columns the person chose.
-- Tokens (from the allow-lists in fields.py): {{calls}} the scoped, filtered calls; {{fields}} the
-- select list; {{order}} the sort. Parameters: $zone (report time zone), $limit (rows, one more than
-- asked so the engine can tell the list was cut).

with filtered as (
    select * from {{calls}}
),

final as (
    select {{fields}}
    from filtered
    order by {{order}}
    limit $limit
)

select * from final
