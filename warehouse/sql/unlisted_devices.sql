-- unlisted_devices: CUCM devices that carried calls as a gateway or trunk, with their calls and times.
-- Input: the `calls` view, whose gateway_device is the outside device of a call (an inventory gateway
-- or trunk, or a device with a span that is not a phone). warehouse.data_health drops the devices the
-- [[devices]] inventory lists (the same name and pattern matching the calls model uses).
-- Parameters: $since and $until, UTC days (inclusive), either null for an open end.

with legs as (
    select c.gateway_device, c.call_id, c.started_at, c.site, c.direction
    from calls as c
    where c.gateway_device is not null
        and ($since is null or c.day >= cast($since as date))
        and ($until is null or c.day <= cast($until as date))
),

final as (
    select
        gateway_device as device,
        count(distinct call_id) as calls,
        count(distinct call_id) filter (where direction = 'outgoing') as outgoing,
        count(distinct call_id) filter (where direction = 'incoming') as incoming,
        min(started_at) as first_seen,
        max(started_at) as last_seen,
        mode(nullif(site, '')) as site
    from legs
    group by gateway_device
)

select * from final
order by calls desc, device
