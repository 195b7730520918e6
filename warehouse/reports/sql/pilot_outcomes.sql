-- The calls offered to hunt pilots and what became of them, shared by hunt_pilots.sql (over the
-- calls of a report's period) and pilot_offers.sql (stored per day by the calls build). One row per
-- offer: one call (call_id) reaching one pilot, through the member legs that carry the pilot. Each
-- offer has one outcome, so answered + abandoned + overflowed + not_answered = offered:
--   answered      a member answered; time to answer runs from the first member's ring (the call's
--                 arrival at the pilot) to the answer, through every member that rang out before;
--   overflowed    no member answered and the call went on to another destination: a later leg of
--                 the call that is not a member leg of the pilot (the pilot's forward on no answer or
--                 busy: voicemail, another pilot, an outside number);
--   abandoned     no member answered, the call went nowhere else, and the caller hung up (the last
--                 member leg ended with cause 16, normal clearing, or with no cause);
--   not_answered  the rest: every member rang out or was busy and the pilot had nowhere to send it.
-- Reads `members` (the member legs whose offers are wanted) and `context` (every leg of their calls)
-- from the query that includes it. Output: call_id, hunt_pilot, started_at (the first member's ring),
-- answered_at, ended_at, extension (the member who answered), site, gateway, direction, outcome, wait_s.

with offers as (
    select
        call_id,
        hunt_pilot,
        min(started_at) as started_at,
        min(answered_at) as answered_at,
        max(ended_at) as ended_at,
        arg_max(cause_code, ended_at) as last_cause,
        arg_min(extension, answered_at) as extension,
        arg_min(site, started_at) as site,
        arg_min(gateway, started_at) as gateway,
        arg_min(direction, started_at) as direction
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

final as (
    select
        f.call_id,
        f.hunt_pilot,
        f.started_at,
        f.answered_at,
        f.ended_at,
        f.extension,
        f.site,
        f.gateway,
        f.direction,
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

select * from final
