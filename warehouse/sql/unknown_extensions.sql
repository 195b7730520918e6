-- unknown_extensions: internal numbers that made or took calls while no directory user had them.
-- Inputs: the `calls` view (user_id is null when no assignment covered the call's start),
-- unknown_site_ranges (site, low, high, digits) and unknown_phone_patterns (lower-case glob per
-- phone device name), registered by warehouse.directory. Parameters: $since (inclusive) and
-- $until (exclusive), either null for an open end.

with legs as (
    select c.call_id, c.extension, c.site, c.started_at, c.device
    from calls as c
    where c.leg_role in ('caller', 'callee')
        -- recording, monitoring and conference legs name CUCM's own resources (b00... numbers), not lines
        and c.leg_kind not in ('recording', 'monitoring', 'conference')
        and c.extension is not null
        and c.user_id is null
        and (cast($since as timestamptz) is null or c.started_at >= cast($since as timestamptz))
        and (cast($until as timestamptz) is null or c.started_at < cast($until as timestamptz))
),

internal as (
    select l.*
    from legs as l
    where exists (
            select 1 from unknown_site_ranges as r
            where length(l.extension) = r.digits and l.extension between r.low and r.high
        )
        or exists (
            select 1 from unknown_phone_patterns as p
            where lower(coalesce(l.device, '')) glob p.pattern
        )
),

final as (
    select
        extension,
        mode(nullif(site, '')) as site,
        min(started_at) as first_seen,
        max(started_at) as last_seen,
        count(distinct call_id) as calls,
        list(distinct device order by device) filter (where device is not null) as devices
    from internal
    group by extension
)

select * from final
order by calls desc, extension
