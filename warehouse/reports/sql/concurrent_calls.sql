-- Concurrent-call peaks per gateway and interval (15 minutes, hour or day): the most calls up at once
-- and when that was first reached, beside the gateway's channels. Intervals with no call up are left
-- out. Tokens: {{sql:carrier_peaks}}. Parameters: $zone (labels), $limit.

with peaks as (
    select * from {{sql:carrier_peaks}}
),

final as (
    select
        gateway,
        timezone($zone, bucket_start) as interval_start,
        channels,
        peak,
        peak / nullif(channels, 0) as peak_share,
        timezone($zone, peak_at) as peak_at,
        seized
    from peaks
    where peak > 0
    order by gateway, bucket_start
    limit $limit
)

select * from final
