-- Erlang B sizing per gateway: the busy-hour traffic the gateway carried, for the sizing that
-- warehouse.capacity.size_gateways adds (channels needed for the blocking aimed for, and the blocking
-- the configured channels give). The busy hour of a day is its clock hour (local day of $zone) with
-- the most traffic; the busy-hour traffic A is the mean of the busy hours of the $busy_days busiest
-- days (of the days there are, when fewer). The single busiest hour and the highest peak of concurrent
-- calls are shown beside it. Tokens: {{sql:gateway_hours}}. Parameters: $zone, $busy_days, $limit.

-- read twice below (busy days, busiest hour): computed once
with hours as materialized (
    select * from {{sql:gateway_hours}}
),

daily as (
    select
        gateway,
        cast(timezone($zone, hour_start) as date) as local_day,
        max(erlangs) as busy_hour_erlangs
    from hours
    group by all
),

ranked_days as (
    select *, row_number() over (partition by gateway order by busy_hour_erlangs desc, local_day) as day_rank
    from daily
),

traffic as (
    select
        gateway,
        count(*) as days,
        avg(busy_hour_erlangs) filter (where day_rank <= $busy_days) as busy_hour_erlangs
    from ranked_days
    group by gateway
),

ranked_hours as (
    select *, row_number() over (partition by gateway order by erlangs desc, hour_start) as hour_rank
    from hours
),

busiest as (
    select
        gateway,
        any_value(channels) as channels,
        max(peak) as peak,
        min(hour_start) filter (where hour_rank = 1) as busiest_hour,
        max(erlangs) as busiest_erlangs
    from ranked_hours
    group by gateway
),

final as (
    select
        b.gateway,
        b.channels,
        t.days,
        timezone($zone, b.busiest_hour) as busiest_hour,
        b.busiest_erlangs,
        t.busy_hour_erlangs,
        b.peak
    from busiest as b
    join traffic as t on t.gateway = b.gateway
    order by b.gateway
    limit $limit
)

select * from final
