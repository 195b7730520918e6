-- Incoming call analysis per hunt pilot: the calls offered to each pilot and what became of them
-- (pilot_outcomes.sql). The member legs the person may see decide which offers are shown, all of them
-- decide the outcome; an offer belongs to the period its first member rang in (the day before the
-- period is read for offers that began then). The same rows are stored per day by the calls build
-- (pilot_offers.sql): for a reader who may see every call, hunt_pilots_stored.sql reads those.
-- Tokens: {{calls}}, {{context}} (every leg of the period, the day before and the day after), {{g1}},
-- {{g2}}, {{g1_extra}}. Parameters: $zone, $limit, $answer_within_s, $period_start, $period_end. Seconds.

with context as (
    select * from {{context}}
),

visible as (
    select distinct call_id, hunt_pilot
    from {{calls}}
    where hunt_pilot is not null
),

members as (
    select c.*
    from context as c
    join visible as v on v.call_id = c.call_id and v.hunt_pilot = c.hunt_pilot
    where c.counted
),

outcomes as (
    select *
    from {{sql:pilot_outcomes}}
    where started_at >= coalesce(cast($period_start as timestamptz), started_at)
        and started_at < coalesce(cast($period_end as timestamptz), started_at + interval 1 second)
)

select *
from {{sql:answer_summary}} as s
order by offered desc, g1 nulls last, g2 nulls last
limit $limit
