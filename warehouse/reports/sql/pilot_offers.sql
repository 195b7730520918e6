-- The calls offered to hunt pilots (pilot_outcomes.sql), worked out by the calls build from every
-- counted leg that carries a pilot and stored per UTC day of the first member's ring (lake dataset
-- `pilot_offers`, warehouse/offers.py). Tokens: {{legs}} (the calls of the days, and of the day after:
-- an offer's outcome may depend on it).

with context as (
    select * from {{legs}}
),

members as (
    select *
    from context
    where counted and hunt_pilot is not null
)

select * from {{sql:pilot_outcomes}}
