-- Incoming call analysis per hunt pilot: the calls offered to each pilot and what became of them.
-- An offer is one call (call_id) reaching one pilot: the member legs that carry the pilot, the ones
-- the person may see deciding which offers are shown, all of them deciding the outcome. Each offer
-- has one outcome, so answered + abandoned + overflowed + not_answered = offered:
--   answered      a member answered; time to answer runs from the first member's ring (the call's
--                 arrival at the pilot) to the answer, through every member that rang out before;
--   overflowed    no member answered and the call went on to another destination: a later leg of
--                 the call that is not a member leg of the pilot (the pilot's forward on no answer or
--                 busy: voicemail, another pilot, an outside number);
--   abandoned     no member answered, the call went nowhere else, and the caller hung up (the last
--                 member leg ended with cause 16, normal clearing, or with no cause);
--   not_answered  the rest: every member rang out or was busy and the pilot had nowhere to send it.
-- Groupings by extension, name or department use the member who answered.
-- Tokens: {{calls}}, {{context}} (the rest of each call), {{g1}}, {{g2}}, {{g1_extra}}.
-- Parameters: $zone, $limit, $answer_within_s. Seconds.

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

offers as (
    select
        call_id,
        hunt_pilot,
        min(started_at) as started_at,
        min(answered_at) as answered_at,
        max(ended_at) as ended_at,
        arg_max(cause_code, ended_at) as last_cause,
        -- the member who answered
        arg_min(extension, answered_at) as extension,
        arg_min(user_name, answered_at) as user_name,
        arg_min(department, answered_at) as department,
        arg_min(cost_centre, answered_at) as cost_centre,
        arg_min(device, answered_at) as device,
        arg_min(site, started_at) as site,
        arg_min(gateway, started_at) as gateway,
        arg_min(direction, started_at) as direction,
        arg_min(other_number, started_at) as other_number,
        arg_min(nation, started_at) as nation,
        arg_min(area, started_at) as area,
        arg_min(destination_type, started_at) as destination_type,
        arg_min(operator, started_at) as operator
    from members
    group by call_id, hunt_pilot
),

-- offers the call went on from: a later leg of the call that is not one of the pilot's member legs
went_on as (
    select distinct f.call_id, f.hunt_pilot
    from offers as f
    join context as o on o.call_id = f.call_id
    where o.leg_role in ('callee', 'forwarder', 'transit')
        and (o.counted or o.leg_role = 'transit')
        and o.started_at >= f.started_at
        and o.hunt_pilot is distinct from f.hunt_pilot
),

outcomes as (
    select
        f.*,
        case
            when f.answered_at is not null then 'answered'
            when w.call_id is not null then 'overflowed'
            when coalesce(f.last_cause, 0) in (0, 16) then 'abandoned'
            else 'not_answered'
        end as outcome,
        epoch(coalesce(f.answered_at, f.ended_at)) - epoch(f.started_at) as wait_s
    from offers as f
    left join went_on as w on w.call_id = f.call_id and w.hunt_pilot = f.hunt_pilot
)

select *
from {{sql:answer_summary}} as s
order by offered desc, g1 nulls last, g2 nulls last
limit $limit
