-- Carrier legs per gateway and interval of $interval_s seconds (UTC clock): the seconds its channels
-- were held in each interval (a leg that spans intervals is split across them), connected (answered
-- legs) and in seizures (legs never answered), the legs up in it and the legs that took their channel
-- in it (or were already up when the legs begin, see carrier_legs.sql's `clipped`). Reads `legs` (the
-- rows of carrier_legs.sql) from the query that includes it. Output: gateway, channels, bucket_start,
-- legs_up, legs_from, held_s, connected_s, seizure_s.

with split as (
    select
        gateway,
        channels,
        answered,
        bucket_no,
        floor(epoch(held_from) / $interval_s) = bucket_no as took,
        least(epoch(held_to), (bucket_no + 1) * $interval_s) - greatest(epoch(held_from), bucket_no * $interval_s)
            as seconds
    from (
        -- intervals as epoch numbers (cheaper than calendar arithmetic on every leg)
        select
            *,
            unnest(range(
                cast(floor(epoch(held_from) / $interval_s) as bigint),
                cast(ceil(epoch(held_to) / $interval_s) as bigint)
            )) as bucket_no
        from legs
    )
),

final as (
    select
        gateway,
        any_value(channels) as channels,
        to_timestamp(bucket_no * $interval_s) as bucket_start,
        count(*) as legs_up,
        count(*) filter (where took) as legs_from,
        sum(seconds) as held_s,
        coalesce(sum(seconds) filter (where answered), 0) as connected_s,
        coalesce(sum(seconds) filter (where not answered), 0) as seizure_s
    from split
    group by gateway, bucket_no
)

select * from final
