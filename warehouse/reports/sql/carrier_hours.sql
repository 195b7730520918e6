-- Carrier load per gateway and hour: the seconds its channels were held in each UTC hour (a call that
-- spans hours is split across them) and the peak of concurrent calls in the hour; gateway_hours.sql
-- adds the erlangs and utilisation. Tokens: {{sql:carrier_intervals}} (run with hours: $interval_s
-- is 3600 for the reports that read this). The same rows from the stored quarter hours:
-- load_hours.sql. Output: gateway, channels, hour_start (UTC instant), legs, held_s, connected_s
-- (answered legs), seizure_s (legs never answered), peak.

with hours as (
    select * from {{sql:carrier_intervals}}
),

final as (
    select
        gateway,
        channels,
        bucket_start as hour_start,
        legs_up as legs,
        held_s,
        connected_s,
        seizure_s,
        peak
    from hours
)

select * from final
