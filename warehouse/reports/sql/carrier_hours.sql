-- Carrier load per gateway and hour: the seconds its channels were held in each UTC hour (a call that
-- spans hours is split across them), in erlangs (held seconds / 3600) and as utilisation (held
-- seconds / (3600 x channels)), and the peak of concurrent calls in the hour.
-- Tokens: {{sql:carrier_intervals}} (run with hours: $interval_s is 3600 for the reports that read
-- this). The same rows from the stored quarter hours: load_hours.sql. Output: gateway, channels,
-- hour_start (UTC instant), legs, held_s, connected_s (answered legs), seizure_s (legs never
-- answered), erlangs, utilisation, peak.

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
        held_s / 3600.0 as erlangs,
        held_s / (3600.0 * nullif(channels, 0)) as utilisation,
        peak
    from hours
)

select * from final
