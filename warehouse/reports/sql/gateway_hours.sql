-- Carrier load per gateway and hour with its traffic: the held seconds in erlangs (held seconds /
-- 3600) and as utilisation (held seconds / (3600 x channels)). Tokens: {{sql:carrier_hours}} (the
-- calls swept, or load_hours.sql from the stored quarter hours when the engine reads those).
-- Output: the columns of carrier_hours.sql, erlangs, utilisation.

with hours as (
    select * from {{sql:carrier_hours}}
),

final as (
    select
        *,
        held_s / 3600.0 as erlangs,
        held_s / (3600.0 * nullif(channels, 0)) as utilisation
    from hours
)

select * from final
