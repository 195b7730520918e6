-- Unanswered outside calls and their call-backs: one row per call from outside (call_id) that rang
-- a line the person may see and that nobody answered (reaching voicemail is not an answer). A call a
-- line sent on (to voicemail, on busy or no answer) rang that line; the line shown is the first rung.
-- Outcome: voicemail (the caller reached voicemail), abandoned (the caller hung up: the last leg
-- ended with cause 16, normal clearing, or with no cause), not_answered (rang out, busy, rejected).
-- A call-back is an outgoing call from any extension of the company to the same number that started
-- after the unanswered call and at most 7 days after it ended. Numbers are compared as E.164 digits:
-- the rated e164 where there is one, else the number as received or dialled read with the site's
-- dialling rules (outside-line access code on outgoing calls, international and national prefix,
-- country code). Status: called_back (a call-back was answered), tried (only unanswered attempts),
-- not_yet. Minutes run from the end of the unanswered call to the first call-back, rounded down.
-- The call-backs are looked for among every call of the company: only their timing is shown.
-- Tokens: {{context}} (the period to 8 days after it), {{where}} (the person's scope and options, on
-- a relation `c` with the calls' columns), {{devices}}, {{numbering}}.
-- Parameters: $zone, $limit. Seconds.

with context as (
    select * from {{context}}
),

inventory as (
    select * from {{devices}}
),

numbering as (
    select * from {{numbering}}
),

device_kinds as (
    select d.device, arg_min(i.kind, i.rank) as kind
    from (select distinct device from context where device is not null) as d
    join inventory as i on lower(d.device) glob i.pattern
    group by d.device
),

-- the incoming legs of calls from outside, each with the line it rang: its own, or for a leg a line
-- sent on (to voicemail, a colleague), the line that sent it, with that line's owner at the time
legs as (
    select
        c.* replace (
            case when c.forwarded then coalesce(c.original_called_number, c.extension) else c.extension end
                as extension,
            case when c.forwarded then a.user_id else c.user_id end as user_id,
            case when c.forwarded then u.user_name else c.user_name end as user_name,
            case when c.forwarded then u.department else c.department end as department,
            case when c.forwarded then u.cost_centre else c.cost_centre end as cost_centre
        ),
        coalesce(k.kind, '') = 'voicemail' as voicemail
    from context as c
    left join device_kinds as k on k.device = c.device
    left join directory_extensions as a
        on c.forwarded
        and a.extension = c.original_called_number
        and (a.valid_from is null or c.started_at >= a.valid_from)
        and (a.valid_to is null or c.started_at < a.valid_to)
    left join directory_users as u on u.user_id = a.user_id
    where c.counted and c.direction = 'incoming' and c.leg_role = 'callee'
),

visible as (
    select distinct c.call_id
    from legs as c
    where {{where}}
),

-- calls a line answered (most of them): left out before the unanswered ones are put together
reached as (
    select distinct call_id
    from legs
    where answered and not voicemail
),

unanswered as (
    select
        call_id,
        min(started_at) as started_at,
        max(ended_at) as ended_at,
        bool_or(answered and voicemail) as voicemail,
        arg_min(other_number, started_at) as other_number,
        arg_min(e164, started_at) as e164,
        arg_min(site, started_at) as site,
        arg_min(original_called_number, started_at) as called_number,
        min(hunt_pilot) as hunt_pilot,
        arg_min(extension, started_at) as extension,
        arg_min(user_name, started_at) as user_name,
        arg_max(cause_code, ended_at) filter (where not voicemail) as last_cause,
        epoch(coalesce(min(answered_at) filter (where voicemail), max(ended_at))) - epoch(min(started_at)) as wait_s
    from legs
    where call_id in (select call_id from visible) and call_id not in (select call_id from reached)
    group by call_id
),

-- the caller's number as E.164 digits
missed as (
    select
        m.*,
        coalesce(
            nullif(ltrim(m.e164, '+'), ''),
            case
                when m.other_number like '+%' then substr(m.other_number, 2)
                when n.site is null then m.other_number
                when n.international <> '' and regexp_matches(m.other_number, '^(?:' || n.international || ')')
                    then regexp_replace(m.other_number, '^(?:' || n.international || ')', '')
                when n.national <> '' and starts_with(m.other_number, n.national)
                    then n.country_code || substr(m.other_number, length(n.national) + 1)
                else n.country_code || m.other_number
            end
        ) as number_key
    from unanswered as m
    left join numbering as n on n.site = m.site
),

-- outgoing calls with their rated number, else their number read with the site's rules (the access
-- code taken off first; only for calls without a rated number: the rest need no regular expression)
dialled as (
    select
        o.started_at,
        o.answered,
        nullif(ltrim(o.e164, '+'), '') as rated,
        n.site as rule_site,
        n.country_code,
        n.international,
        n.national,
        case
            when nullif(ltrim(o.e164, '+'), '') is not null then null
            when n.access <> '' then regexp_replace(o.other_number, '^(?:' || n.access || ')', '')
            else o.other_number
        end as number
    from context as o
    left join numbering as n on n.site = o.site
    where o.counted and o.direction = 'outgoing' and o.leg_role = 'caller' and o.other_number is not null
),

-- their number as E.164 digits
outgoing as (
    select
        started_at,
        answered,
        coalesce(
            rated,
            case
                when number like '+%' then substr(number, 2)
                when rule_site is null then number
                when international <> '' and regexp_matches(number, '^(?:' || international || ')')
                    then regexp_replace(number, '^(?:' || international || ')', '')
                when national <> '' and starts_with(number, national)
                    then country_code || substr(number, length(national) + 1)
                else country_code || number
            end
        ) as number_key
    from dialled
),

callbacks as (
    select
        m.call_id,
        min(o.started_at) as first_at,
        bool_or(o.answered) as reached
    from missed as m
    join outgoing as o
        on o.number_key = m.number_key
        and o.started_at > m.started_at
        and o.started_at <= m.ended_at + interval 7 day
    group by m.call_id
),

final as (
    select
        timezone($zone, m.started_at) as started_at,
        m.other_number,
        m.called_number,
        m.hunt_pilot,
        m.extension,
        m.user_name,
        m.wait_s,
        case
            when m.voicemail then 'voicemail'
            when coalesce(m.last_cause, 0) in (0, 16) then 'abandoned'
            else 'not_answered'
        end as outcome,
        case
            when cb.reached then 'called_back'
            when cb.call_id is not null then 'tried'
            else 'not_yet'
        end as callback_status,
        case
            when cb.first_at is not null
                then cast(floor(greatest(epoch(cb.first_at) - epoch(m.ended_at), 0) / 60) as integer)
        end as callback_minutes
    from missed as m
    left join callbacks as cb on cb.call_id = m.call_id
    order by m.started_at desc, m.call_id
    limit $limit
)

select * from final
