-- Incoming call analysis per hunt pilot from the offers the calls build stored per UTC day of the
-- first member's ring (lake dataset `pilot_offers`, pilot_offers.sql): the same figures as
-- hunt_pilots.sql. The engine runs it for a reader who may see every call, with no option but the
-- period and the traffic, when every day of the period has its pilot offers stored.
-- Tokens: {{where}} (period and traffic, on a relation `c`), {{g1}}, {{g2}}, {{g1_extra}}.
-- Parameters: $zone, $limit, $answer_within_s.

with outcomes as (
    select *
    from (select *, true as counted from pilot_offers) as c
    where {{where}}
)

select *
from {{sql:answer_summary}} as s
order by offered desc, g1 nulls last, g2 nulls last
limit $limit
