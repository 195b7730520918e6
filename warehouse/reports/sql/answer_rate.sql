-- Incoming call analysis per line: the calls offered to each extension and what became of them.
-- An offer is one call (call_id) ringing one line: through the line's own legs (it was the called
-- party: dialled directly, as a hunt-group member, or after a transfer), or through a leg the line
-- sent on without answering (forwarded on busy, on no answer or always: to voicemail, a colleague or
-- an outside number). Each offer has one outcome, so answered + abandoned + overflowed + not_answered
-- = offered:
--   answered      the line answered; time to answer runs from its first ring to the answer;
--   overflowed    not answered, and the call went on to another destination: the line sent it on,
--                 or a later leg of the call rang elsewhere (the next hunt member, voicemail);
--   abandoned     not answered, not gone on, and the caller hung up while it rang (the last leg ended
--                 with cause 16, normal clearing, or with no cause);
--   not_answered  the rest: rang out, busy, rejected.
-- Voicemail and conference ports (by the device inventory) are not lines; a leg a hunt pilot sent on
-- belongs to the pilot (hunt_pilots.sql). The rest of each call is read from {{context}}, whoever's
-- it is: only the offers of the lines the person may see are shown.
-- Tokens: {{context}}, {{where}} (scope and options, on a relation `c` with the calls' columns),
-- {{devices}}, {{g1}}, {{g2}}, {{g1_extra}}. Parameters: $zone, $limit, $answer_within_s. Seconds.

with context as (
    select * from {{context}}
),

inventory as (
    select * from {{devices}}
),

-- each device's kind: the inventory's best match (exact names first, then patterns in order)
device_kinds as (
    select d.device, arg_min(i.kind, i.rank) as kind
    from (select distinct device from context where device is not null) as d
    join inventory as i on lower(d.device) glob i.pattern
    group by d.device
),

pilots as (
    select distinct hunt_pilot from context where hunt_pilot is not null
),

legs as (
    -- the legs that rang a line
    select c.*, c.extension as target, false as sent_on
    from context as c
    left join device_kinds as k on k.device = c.device
    where c.counted
        and c.leg_role = 'callee'
        and c.extension is not null
        and not c.forwarded
        and coalesce(k.kind, '') not in ('voicemail', 'conference')

    union all

    -- the legs a line sent on: the call rings the next destination on the line's behalf
    select c.*, c.original_called_number as target, true as sent_on
    from context as c
    where c.counted
        and c.leg_role = 'callee'
        and c.forwarded
        and c.original_called_number is not null
        and c.original_called_number not in (select hunt_pilot from pilots)

    union all

    select c.*, c.extension as target, true as sent_on
    from context as c
    where c.counted
        and c.leg_role = 'forwarder'
        and c.extension is not null
        and c.extension not in (select hunt_pilot from pilots)
),

-- a leg sent on belongs to the line that sent it: that line's owner at the time
owned as (
    select
        l.* replace (
            l.target as extension,
            case when l.target is distinct from l.extension then a.user_id else l.user_id end as user_id,
            case when l.target is distinct from l.extension then u.user_name else l.user_name end as user_name,
            case when l.target is distinct from l.extension then u.department else l.department end as department,
            case when l.target is distinct from l.extension then u.cost_centre else l.cost_centre end as cost_centre
        )
    from legs as l
    left join directory_extensions as a
        on l.target is distinct from l.extension
        and a.extension = l.target
        and (a.valid_from is null or l.started_at >= a.valid_from)
        and (a.valid_to is null or l.started_at < a.valid_to)
    left join directory_users as u on u.user_id = a.user_id
),

visible as (
    select distinct c.call_id, c.target
    from owned as c
    where {{where}}
),

offers as (
    select
        o.call_id,
        o.target,
        min(o.started_at) as started_at,
        min(o.answered_at) filter (where not o.sent_on) as answered_at,
        bool_or(o.sent_on) as sent_on,
        max(o.ended_at) as ended_at,
        arg_max(o.cause_code, o.ended_at) as last_cause,
        arg_min(o.extension, o.started_at) as extension,
        arg_min(o.user_name, o.started_at) as user_name,
        arg_min(o.department, o.started_at) as department,
        arg_min(o.cost_centre, o.started_at) as cost_centre,
        arg_min(o.site, o.started_at) as site,
        arg_min(o.gateway, o.started_at) as gateway,
        arg_min(o.direction, o.started_at) as direction,
        arg_min(o.hunt_pilot, o.started_at) as hunt_pilot,
        arg_min(o.other_number, o.started_at) as other_number,
        arg_min(o.nation, o.started_at) as nation,
        arg_min(o.area, o.started_at) as area,
        arg_min(o.destination_type, o.started_at) as destination_type,
        arg_min(o.operator, o.started_at) as operator,
        arg_min(o.device, o.started_at) as device
    from owned as o
    join visible as v on v.call_id = o.call_id and v.target = o.target
    group by o.call_id, o.target
),

-- offers the call went on from: a later leg of the same call rang another destination
went_on as (
    select distinct f.call_id, f.target
    from offers as f
    join context as o on o.call_id = f.call_id
    where o.leg_role in ('callee', 'forwarder', 'transit')
        and (o.counted or o.leg_role = 'transit')
        and o.started_at >= f.started_at
        and o.extension is distinct from f.target
),

outcomes as (
    select
        f.*,
        case
            when f.answered_at is not null then 'answered'
            when f.sent_on or w.call_id is not null then 'overflowed'
            when coalesce(f.last_cause, 0) in (0, 16) then 'abandoned'
            else 'not_answered'
        end as outcome,
        epoch(coalesce(f.answered_at, f.ended_at)) - epoch(f.started_at) as wait_s
    from offers as f
    left join went_on as w on w.call_id = f.call_id and w.target = f.target
)

select *
from {{sql:answer_summary}} as s
order by offered desc, g1 nulls last, g2 nulls last
limit $limit
