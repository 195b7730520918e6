-- calls: one row per CDR leg per internal party, for the legs that started on some UTC days.
-- Inputs (registered by warehouse.calls): cdr_in (raw CDR rows of the days), cmr_in (raw CMR rows of
-- the days and of each next day, with their partition's `cmr_day`), devices (CUCM device inventory),
-- site_ranges (internal number ranges), cause_codes, redirect_codes. Parameters: $day_start and
-- $day_end (epoch seconds around the days), $charge_forwarder (bool), $ranges_configured (bool).
-- The counting model this implements is written out in README.md ("How calls are counted").
--
-- Several days are built in one query, but each day's calls come out as if built alone: everything
-- that relates legs to legs is keyed by the UTC day the leg started on (`leg_day`). CUCM reuses call
-- ids (they restart with the node), so two days' legs must never meet, whichever days a run builds.

with firsts as (
    -- the same CDR row can reach us twice (a file re-sent under a new name): keep the first one
    select pkid, dateTimeOrigination // 86400 as leg_day,
        min(struct_pack(f := source_file, l := source_line, r := rowid)).r as keep
    from cdr_in
    group by all
    having count(*) > 1
),

legs as (
    select c.*
    from cdr_in as c
    anti join firsts as f
        on f.pkid is not distinct from c.pkid
        and f.leg_day = c.dateTimeOrigination // 86400
        and c.rowid <> f.keep
),

sided as (
    select
        l.*,
        l.dateTimeOrigination // 86400 as leg_day,
        coalesce(l.globalCallId_ClusterID, '') as cluster,
        lower(coalesce(l.origDeviceName, '')) as orig_dev,
        lower(coalesce(l.destDeviceName, '')) as dest_dev,
        coalesce(l.callingPartyNumber, l.callingPartyNumber_uri, '') as calling_number,
        coalesce(l.originalCalledPartyNumber, l.originalCalledPartyNumber_uri, '') as original_called,
        coalesce(l.finalCalledPartyNumber, l.finalCalledPartyNumber_uri, '') as final_called,
        coalesce(l.lastRedirectDn, l.lastRedirectDn_uri, '') as last_redirect
    from legs as l
),

with_devices as (
    select
        s.*,
        od.kind as orig_kind,
        dd.kind as dest_kind,
        od.label as orig_label,
        dd.label as dest_label,
        od.site as orig_site,
        dd.site as dest_site,
        -- a side is outside the company when the inventory says gateway/trunk, or when the device is
        -- not in the inventory, is not an endpoint by its name, and carries a span (H.323/SIP leg id
        -- or PRI B-channel); never unknown, so that every leg lands on exactly the parties it has
        coalesce(od.kind in ('gateway', 'trunk'), od.kind is null and s.origSpan <> 0 and not od_guess.endpoint, false)
            as orig_external,
        coalesce(dd.kind in ('gateway', 'trunk'), dd.kind is null and s.destSpan <> 0 and not dd_guess.endpoint, false)
            as dest_external
    from sided as s
    left join devices as od on od.name = s.orig_dev
    left join devices as dd on dd.name = s.dest_dev
    cross join lateral (
        select regexp_matches(s.orig_dev, '^(sep|csf|bot|tct|tab|ata|cipc|udp|ciscoum|vm|cfb|mtp|cms)')
            as endpoint
    ) as od_guess
    cross join lateral (
        select regexp_matches(s.dest_dev, '^(sep|csf|bot|tct|tab|ata|cipc|udp|ciscoum|vm|cfb|mtp|cms)')
            as endpoint
    ) as dd_guess
),

flagged as (
    select
        *,
        case
            when 27 in (origCallTerminationOnBehalfOf, destCallTerminationOnBehalfOf, joinOnBehalfOf)
                or 354 in (origCalledPartyRedirectReason, lastRedirectRedirectReason) then 'recording'
            when 28 in (origCallTerminationOnBehalfOf, destCallTerminationOnBehalfOf, joinOnBehalfOf)
                or 370 in (origCalledPartyRedirectReason, lastRedirectRedirectReason) then 'monitoring'
            when final_called like 'b00%' or calling_number like 'b00%' then 'conference'
            when (destLegIdentifier = 0 or destLegIdentifier is null) and final_called = '' then 'offhook'
            when origCause_value = 393216 or destCause_value = 393216 then 'transfer_split'
            else 'call'
        end as leg_kind,
        case
            when orig_external and dest_external then 'tandem'
            when dest_external then 'outgoing'
            when orig_external then 'incoming'
            else 'internal'
        end as leg_direction,
        dateTimeConnect > 0 as leg_answered,
        coalesce(nullif(lastRedirectRedirectReason, 0), nullif(origCalledPartyRedirectReason, 0))
            as redirect_code,
        -- the line that sent the call on to where it ended, when it was forwarded
        case
            when original_called <> '' and original_called <> final_called
                and coalesce(nullif(lastRedirectRedirectReason, 0), nullif(origCalledPartyRedirectReason, 0))
                    in (1, 2, 10, 15, 18, 50, 66, 82, 178, 207, 239, 242)
                then coalesce(nullif(last_redirect, ''), original_called)
        end as forwarder_number
    from with_devices
),

in_ranges as (
    -- the site of each number that falls in a site's internal range (any number that can be an extension)
    select n.number, any_value(r.site) as site
    from (
        select distinct unnest([
            coalesce(callingPartyNumber, callingPartyNumber_uri),
            coalesce(originalCalledPartyNumber, originalCalledPartyNumber_uri),
            coalesce(finalCalledPartyNumber, finalCalledPartyNumber_uri),
            coalesce(lastRedirectDn, lastRedirectDn_uri)
        ]) as number
        from cdr_in
    ) as n
    join site_ranges as r on length(n.number) = r.digits and n.number between r.low and r.high
    group by n.number
),

cmr as (
    -- what a CMR says about its leg's quality
    select
        cmr_day,
        globalCallID_callManagerId,
        globalCallID_callId,
        callIdentifier,
        dateTimeStamp,
        struct_pack(
            mos := try_cast(regexp_extract(varVQMetrics, 'MLQKav=([0-9.]+)', 1) as double),
            jitter_ms := jitter,
            latency_ms := latency,
            received := numberPacketsReceived,
            lost := numberPacketsLost
        ) as m
    from cmr_in
),

answered_calls as (
    -- calls in which any leg was answered (a group and a join: cheaper than a window here)
    select distinct leg_day, cluster, globalCallID_callManagerId, globalCallID_callId
    from flagged
    where leg_answered
),

numbers as (
    select
        f.*,
        f.forwarder_number is not null and (
            fr.number is not null
            or (not $ranges_configured and regexp_matches(f.forwarder_number, '^[0-9]{2,7}$'))
        ) as forwarder_internal,
        a.cluster is not null as call_answered
    from flagged as f
    left join in_ranges as fr on fr.number = f.forwarder_number
    left join answered_calls as a
        on a.leg_day = f.leg_day
        and a.cluster = f.cluster
        and a.globalCallID_callManagerId = f.globalCallID_callManagerId
        and a.globalCallID_callId = f.globalCallID_callId
),

-- one row per internal party of each leg ------------------------------------------------------
parties as (
    -- the calling side, when it is inside the company
    select
        n.*,
        'caller' as leg_role,
        n.calling_number as extension,
        n.origDeviceName as party_device,
        n.origLegCallIdentifier as party_leg,
        case
            when n.leg_direction = 'outgoing' and $charge_forwarder and n.forwarder_internal
                and n.forwarder_number <> n.calling_number then 'internal'
            else n.leg_direction
        end as direction,
        case
            when n.leg_direction = 'outgoing' and $charge_forwarder and n.forwarder_internal
                and n.forwarder_number <> n.calling_number then n.original_called
            else n.final_called
        end as other_number
    from numbers as n
    where not n.orig_external and n.leg_direction in ('outgoing', 'internal')

    union all

    -- the called side, when it is inside the company
    select
        n.*,
        'callee' as leg_role,
        n.final_called as extension,
        n.destDeviceName as party_device,
        n.destLegIdentifier as party_leg,
        n.leg_direction as direction,
        n.calling_number as other_number
    from numbers as n
    where not n.dest_external and n.leg_direction in ('incoming', 'internal') and n.leg_kind <> 'offhook'

    union all

    -- the forwarding line of a call it sent on to an outside number: it pays for that leg
    select
        n.*,
        'forwarder' as leg_role,
        n.forwarder_number as extension,
        null as party_device,
        null as party_leg,
        n.leg_direction as direction,
        n.final_called as other_number
    from numbers as n
    where n.dest_external and n.forwarder_internal
        and (n.leg_direction = 'tandem'
            or ($charge_forwarder and n.leg_direction = 'outgoing' and n.forwarder_number <> n.calling_number))

    union all

    -- a transit leg with nobody inside the company on it: kept for trunk utilisation
    select
        n.*,
        'transit' as leg_role,
        null as extension,
        null as party_device,
        null as party_leg,
        'tandem' as direction,
        n.final_called as other_number
    from numbers as n
    where n.leg_direction = 'tandem' and not coalesce(n.forwarder_internal, false)
),

quality as (
    -- the last CMR of each party's leg (its values are read once per leg, not once per record); a CMR
    -- is written when its leg ends, so it belongs to a leg of its own day or of the day before
    select leg_day, globalCallID_callManagerId, globalCallID_callId, callIdentifier, arg_max(m, dateTimeStamp) as m
    from (
        select cmr_day as leg_day, * exclude (cmr_day) from cmr
        union all
        -- a leg that ended after midnight: only the CMRs of calls with legs the day before
        select cmr_day - 1 as leg_day, * exclude (cmr_day) from cmr
        semi join (
            select distinct
                dateTimeOrigination // 86400 + 1 as next_day, globalCallID_callManagerId, globalCallID_callId
            from cdr_in
        ) as c
            on c.next_day = cmr.cmr_day
            and c.globalCallID_callManagerId = cmr.globalCallID_callManagerId
            and c.globalCallID_callId = cmr.globalCallID_callId
    )
    group by all
),

final as (
    select
        p.leg_day,
        p.cluster || ':' || p.globalCallID_callManagerId || ':' || p.globalCallID_callId as call_id,
        p.cluster || ':' || p.origLegCallIdentifier || ':' || p.destLegIdentifier as leg_id,
        p.pkid,
        p.cluster,
        to_timestamp(p.dateTimeOrigination) as started_at,
        case when p.dateTimeConnect > 0 then to_timestamp(p.dateTimeConnect) end as answered_at,
        to_timestamp(greatest(p.dateTimeDisconnect, p.dateTimeOrigination)) as ended_at,
        cast(coalesce(p.duration, 0) as integer) as duration_s,
        cast(greatest(
            case when p.dateTimeConnect > 0 then p.dateTimeConnect else p.dateTimeDisconnect end
                - p.dateTimeOrigination,
            0
        ) as integer) as ring_s,
        p.direction,
        p.leg_role,
        p.leg_kind,
        p.leg_kind in ('call', 'transfer_split') and p.leg_role <> 'transit' as counted,
        p.leg_kind in ('call', 'transfer_split')
            and p.leg_role in ('caller', 'forwarder', 'callee')
            and p.direction in ('outgoing', 'incoming', 'tandem') as billable,
        p.leg_answered as answered,
        not p.call_answered and p.leg_kind in ('call', 'transfer_split') as missed,
        nullif(p.extension, '') as extension,
        cast(null as varchar) as user_id,
        cast(null as varchar) as user_name,
        cast(null as varchar) as department,
        cast(null as varchar) as cost_centre,
        coalesce(
            er.site,
            nullif(case when p.leg_role = 'caller' then p.orig_site else p.dest_site end, ''),
            nullif(case when p.direction = 'incoming' then p.orig_site else p.dest_site end, ''),
            ''
        ) as site,
        p.party_device as device,
        nullif(p.other_number, '') as other_number,
        nullif(p.calling_number, '') as calling_number,
        nullif(p.original_called, '') as original_called_number,
        nullif(p.final_called, '') as final_called_number,
        nullif(p.outpulsedCalledPartyNumber, '') as outpulsed_number,
        nullif(p.finalCalledPartyPattern, '') as route_pattern,
        cast(null as varchar) as e164,
        case
            when p.direction = 'outgoing' or (p.direction = 'tandem' and p.dest_external)
                then coalesce(nullif(p.dest_label, ''), p.destDeviceName)
            when p.direction = 'incoming' then coalesce(nullif(p.orig_label, ''), p.origDeviceName)
        end as gateway,
        case
            when p.direction = 'outgoing' or (p.direction = 'tandem' and p.dest_external) then p.destDeviceName
            when p.direction = 'incoming' then p.origDeviceName
        end as gateway_device,
        case
            when p.direction = 'outgoing' or (p.direction = 'tandem' and p.dest_external)
                then nullif(p.dest_label, '') is not null and p.dest_kind in ('gateway', 'trunk')
        end as gateway_listed,
        cast(null as varchar) as nation,
        cast(null as varchar) as area,
        case when p.direction = 'internal' then 'internal' end as destination_type,
        cast(null as varchar) as operator,
        cast(null as decimal(18, 6)) as cost,
        cast(null as varchar) as currency,
        cast(null as varchar) as tariff_plan,
        cast(null as varchar) as rate_ref,
        -- the carrier's own amount and currency; `cost` is in the company currency (set by warehouse.rating)
        cast(null as decimal(18, 6)) as plan_cost,
        cast(null as varchar) as plan_currency,
        coalesce(nullif(p.destCause_value, 0), p.origCause_value) as cause_code,
        coalesce(cc.text, 'Cause ' || coalesce(nullif(p.destCause_value, 0), p.origCause_value)) as cause_text,
        coalesce(
            nullif(p.huntPilotDN, ''),
            case when p.calledPartyPatternUsage = 7 then nullif(p.original_called, '') end
        ) as hunt_pilot,
        p.redirect_code,
        rc.text as redirect_reason,
        p.leg_kind = 'transfer_split' or p.joinOnBehalfOf = 10 or p.lastRedirectRedirectReason in (4, 34)
            as transferred,
        p.forwarder_number is not null as forwarded,
        nullif(p.clientMatterCode, '') as client_matter_code,
        nullif(p.authorizationCodeValue, '') as authorization_code,
        -- the gateway leg this row rides on, and how long the carrier kept it up (transfers split one
        -- carrier leg into several rows; their durations add up to less than the carrier bills)
        case
            when p.dest_external then p.cluster || ':' || p.globalCallID_callManagerId || ':' || p.destLegIdentifier
            when p.orig_external then p.cluster || ':' || p.globalCallID_callManagerId || ':' || p.origLegCallIdentifier
        end as trunk_leg_id,
        q.m.mos as mos,
        q.m.jitter_ms as jitter_ms,
        q.m.latency_ms as latency_ms,
        case
            when coalesce(q.m.received, 0) + coalesce(q.m.lost, 0) > 0
                then round(100.0 * greatest(q.m.lost, 0) / (q.m.received + greatest(q.m.lost, 0)), 3)
        end as packet_loss_pct,
        p.origDeviceName as orig_device,
        p.destDeviceName as dest_device,
        p.source_file,
        p.source_line
    from parties as p
    left join in_ranges as er on er.number = p.extension
    left join cause_codes as cc on cc.code = coalesce(nullif(p.destCause_value, 0), p.origCause_value)
    left join redirect_codes as rc on rc.code = p.redirect_code
    left join quality as q
        on q.leg_day = p.leg_day
        and q.globalCallID_callManagerId = p.globalCallID_callManagerId
        and q.globalCallID_callId = p.globalCallID_callId
        and q.callIdentifier = coalesce(
            p.party_leg,
            case when p.orig_external then p.destLegIdentifier else p.origLegCallIdentifier end
        )
    where p.dateTimeOrigination >= $day_start and p.dateTimeOrigination < $day_end
),

-- how long the carrier kept each gateway leg up, from its first answer (or end) to its last end, over
-- the legs that have a party in `final`: every leg with an outside side except an incoming off-hook
-- leg, which reached nobody (computed from the legs: reading `final` twice would hold all of it)
carrier as (
    select
        leg_day,
        cluster || ':' || globalCallID_callManagerId || ':' || trunk_leg as trunk_leg_id,
        cast(max(ended) - coalesce(min(answered), max(ended)) as integer) as carrier_s
    from (
        select
            leg_day,
            cluster,
            globalCallID_callManagerId,
            case when dest_external then destLegIdentifier else origLegCallIdentifier end as trunk_leg,
            greatest(dateTimeDisconnect, dateTimeOrigination) as ended,
            case when dateTimeConnect > 0 then dateTimeConnect end as answered
        from numbers
        where (dest_external or orig_external)
            and not (leg_direction = 'incoming' and leg_kind = 'offhook')
            and dateTimeOrigination >= $day_start and dateTimeOrigination < $day_end
    )
    group by all
)

select f.* exclude (leg_day), c.carrier_s
from final as f
left join carrier as c on c.leg_day = f.leg_day and c.trunk_leg_id = f.trunk_leg_id
