-- Carrier load per gateway and hour (the rows of carrier_hours.sql) from the stored quarter hours
-- (gateway_quarters.sql): the seconds and the peak of an hour are those of its quarters; the legs
-- up in it are the legs up in its first quarter (or the period's, when the period begins within the
-- hour) and those that took a channel in its other quarters. Tokens: {{gateway_load}} (the period's
-- quarters). Parameters: $period_start.

with quarters as (
    select * from {{gateway_load}}
),

per_hour as (
    select
        gateway,
        any_value(channels) as channels,
        to_timestamp(floor(epoch(quarter_start) / 3600) * 3600) as hour_start,
        sum(
            case
                when epoch(quarter_start) % 3600 = 0 or quarter_start = cast($period_start as timestamptz)
                    then legs_up
                else legs_from
            end
        ) as legs,
        sum(held_s) as held_s,
        sum(connected_s) as connected_s,
        sum(seizure_s) as seizure_s,
        max(peak) as peak
    from quarters
    group by gateway, hour_start
),

final as (
    select
        gateway,
        channels,
        hour_start,
        legs,
        held_s,
        connected_s,
        seizure_s,
        peak
    from per_hour
)

select * from final
