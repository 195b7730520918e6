-- Carrier legs: one row per channel of a gateway or trunk that a call held, and when it held it.
-- A channel is a trunk leg (trunk_leg_id: the rows a transfer split one carrier leg into share it);
-- a tandem leg (outside to outside, such as a line forwarded to a mobile) also holds a channel of its
-- own on the gateway it came in on. An answered leg holds its channel from its first connect to its
-- last disconnect (the time the carrier bills); a leg never answered (a seizure: it rang out, was
-- busy, or the caller gave up) holds it from the start of the call to its end. Holding times are cut
-- to the period, so legs that started before it (the report reads them: lookback_days) count only
-- for the part inside it (`clipped`). A gateway's channels are the `channels` of the inventory
-- entries with its label, added up (an entry whose pattern names several devices describes them
-- together); a device of an entry without a label is a gateway of its own with that entry's channels.
-- Tokens: {{calls}} (rows with a trunk_leg_id), {{devices}}. Parameters: $period_start, $period_end
-- (UTC instants, NULL for all time).

with carried as (
    select * from {{calls}}
),

inventory as (
    select * from {{devices}}
),

sides as (
    select
        trunk_leg_id as leg,
        gateway,
        gateway_device as device,
        started_at,
        answered_at,
        ended_at
    from carried

    union all

    -- the inbound side of a tandem leg, named as the trunk leg of that side is named
    select
        regexp_replace(call_id, ':[^:]*$', '') || ':' || regexp_extract(leg_id, ':([^:]*):[^:]*$', 1) as leg,
        null as gateway,
        orig_device as device,
        started_at,
        answered_at,
        ended_at
    from carried
    where direction = 'tandem' and orig_device is not null
),

device_entries as (
    select d.device, arg_min(i.label, i.rank) as label, arg_min(i.channels, i.rank) as channels, count(i.rank) as listed
    from (select distinct device from sides where device is not null) as d
    left join inventory as i on lower(d.device) glob i.pattern and i.kind in ('gateway', 'trunk')
    group by d.device
),

labelled as (
    select label, sum(channels) as channels
    from inventory
    where kind in ('gateway', 'trunk') and label <> ''
    group by label
),

legs as (
    select
        s.leg,
        -- the gateway as the calls name it (the inventory's label, else the device name)
        coalesce(
            max(s.gateway),
            any_value(case when e.listed > 0 then coalesce(nullif(e.label, ''), lower(s.device)) else s.device end)
        ) as gateway,
        any_value(s.device) as device,
        min(s.started_at) as seized_at,
        min(s.answered_at) as connected_at,
        max(s.ended_at) as released_at
    from sides as s
    left join device_entries as e on e.device = s.device
    group by s.leg
),

held as (
    select
        leg,
        gateway,
        device,
        connected_at is not null as answered,
        coalesce(connected_at, seized_at) < coalesce(cast($period_start as timestamptz), seized_at) as clipped,
        greatest(coalesce(connected_at, seized_at), coalesce(cast($period_start as timestamptz), seized_at)) as held_from,
        least(released_at, coalesce(cast($period_end as timestamptz), released_at)) as held_to
    from legs
    where gateway is not null
),

channels as (
    select g.gateway, coalesce(any_value(l.channels), max(e.channels) filter (where e.label = '')) as channels
    from (select distinct gateway, device from held) as g
    left join labelled as l on l.label = g.gateway
    left join device_entries as e on e.device = g.device
    group by g.gateway
),

final as (
    select h.gateway, c.channels, h.leg, h.device, h.answered, h.clipped, h.held_from, h.held_to
    from held as h
    left join channels as c on c.gateway = h.gateway
    where h.held_to > h.held_from
)

select * from final
