-- The calls offered to lines, one row per offer, and what became of each: the incoming call analysis
-- (answer_rate.sql) reads these rows. The ingest stores them per UTC day of the offer's first ring
-- (dataset `offers`, warehouse/offers.py); a report whose days are not all stored, or were stored
-- with another device inventory, runs this same query over the calls themselves.
--
-- An offer is one call (call_id) ringing one line: through the line's own legs (it was the called
-- party: dialled directly, as a hunt-group member, or after a transfer), or through a leg the line
-- sent on without answering (forwarded on busy, on no answer or always: to voicemail, a colleague or
-- an outside number). Each offer has one outcome:
--   answered      the line answered; time to answer runs from its first ring to the answer;
--   overflowed    not answered, and the call went on to another destination: the line sent it on,
--                 or a later leg of the call rang elsewhere (the next hunt member, voicemail);
--   abandoned     not answered, not gone on, and the caller hung up while it rang (the last leg ended
--                 with cause 16, normal clearing, or with no cause);
--   not_answered  the rest: rang out, busy, rejected.
-- Voicemail and conference ports (by the device inventory) are not lines; a leg a hunt pilot sent on
-- belongs to the pilot (hunt_pilots.sql): a hunt pilot is a number some leg of these calls carries
-- as its pilot.
--
-- Each row is the offer's first leg (the columns of `calls`; whoever owned the line at the first ring
-- is joined when the rows are read, warehouse.views.with_owners) with the offer's own figures in
-- place: extension is the line offered, answered_at and ended_at are the offer's, answered says
-- whether the line answered. Added: sent_on, last_cause, outcome and wait_s (seconds from the first ring to the
-- answer, or to the end when nobody answered).
-- Tokens: {{legs}} (a relation with the columns of `calls`: every leg of the calls, including the legs
-- that came after the offers), {{devices}} (the inventory, warehouse.reports.inputs.devices_sql).

-- the columns that decide the offers; the wide rows are read again only for each offer's first leg
with legs_in as (
    select
        call_id, leg_id, leg_role, extension, original_called_number, forwarded, counted, device, hunt_pilot,
        started_at, answered_at, ended_at, cause_code
    from {{legs}}
),

inventory as (
    select * from {{devices}}
),

-- each device's kind: the inventory's best match (exact names first, then patterns in order)
device_kinds as (
    select d.device, arg_min(i.kind, i.rank) as kind
    from (select distinct device from legs_in where device is not null) as d
    join inventory as i on lower(d.device) glob i.pattern
    group by d.device
),

pilots as (
    select distinct hunt_pilot from legs_in where hunt_pilot is not null
),

rang as (
    -- the legs that rang a line
    select c.*, c.extension as target, false as sent_on
    from legs_in as c
    left join device_kinds as k on k.device = c.device
    where c.counted
        and c.leg_role = 'callee'
        and c.extension is not null
        and not c.forwarded
        and coalesce(k.kind, '') not in ('voicemail', 'conference')

    union all

    -- the legs a line sent on: the call rings the next destination on the line's behalf
    select c.*, c.original_called_number as target, true as sent_on
    from legs_in as c
    where c.counted
        and c.leg_role = 'callee'
        and c.forwarded
        and c.original_called_number is not null
        and c.original_called_number not in (select hunt_pilot from pilots)

    union all

    select c.*, c.extension as target, true as sent_on
    from legs_in as c
    where c.counted
        and c.leg_role = 'forwarder'
        and c.extension is not null
        and c.extension not in (select hunt_pilot from pilots)
),

offers as (
    select
        call_id,
        target,
        min(started_at) as started_at,
        min(answered_at) filter (where not sent_on) as answered_at,
        bool_or(sent_on) as sent_on,
        max(ended_at) as ended_at,
        arg_max(cause_code, ended_at) as last_cause,
        -- the first leg: the earliest (the lowest leg id and role among legs that started together)
        min({'started_at': started_at, 'leg_id': leg_id, 'leg_role': leg_role}) as first_leg
    from rang
    group by call_id, target
),

-- offers the call went on from: a later leg of the same call rang another destination
went_on as (
    select distinct f.call_id, f.target
    from offers as f
    join legs_in as o on o.call_id = f.call_id
    where o.leg_role in ('callee', 'forwarder', 'transit')
        and (o.counted or o.leg_role = 'transit')
        and o.started_at >= f.started_at
        and o.extension is distinct from f.target
)

select
    l.* replace (
        f.target as extension,
        f.answered_at as answered_at,
        f.ended_at as ended_at,
        f.answered_at is not null as answered
    ),
    f.sent_on,
    f.last_cause,
    case
        when f.answered_at is not null then 'answered'
        when f.sent_on or w.call_id is not null then 'overflowed'
        when coalesce(f.last_cause, 0) in (0, 16) then 'abandoned'
        else 'not_answered'
    end as outcome,
    epoch(coalesce(f.answered_at, f.ended_at)) - epoch(f.started_at) as wait_s
from offers as f
join (select * from {{legs}}) as l
    on l.call_id = f.call_id
    and l.leg_id = f.first_leg.leg_id
    and l.leg_role = f.first_leg.leg_role
    and l.started_at = f.started_at
left join went_on as w on w.call_id = f.call_id and w.target = f.target
