-- Concurrent calls per gateway and interval (see carrier_sweep.sql) over the carrier legs of the
-- period. Tokens: {{sql:carrier_legs}}, {{sql:carrier_sweep}}. Parameters: those of both.

with legs as materialized (
    select * from {{sql:carrier_legs}}
)

select * from {{sql:carrier_sweep}}
