-- Call quality per group, from the CMR records of the calls: mean opinion score (1-5), jitter and
-- latency (ms), packet loss (%), as averages and as distributions (the share of calls under MOS 3.5,
-- the 95th percentiles of jitter, latency and loss), and how many calls were poor (MOS under 3.5 or
-- loss over 1 %, the thresholds of filters.POOR_QUALITY_SQL).
-- Tokens: {{calls}}, {{g1}}, {{g2}}, {{g1_extra}}, {{group_keys}}. Parameters: $zone, $limit.
-- Percentiles interpolate between the two nearest calls (quantile_cont).

with measured as (
    select * from {{calls}}
    where mos is not null or jitter_ms is not null or latency_ms is not null or packet_loss_pct is not null
),

grouped as (
    select
        {{g1}} as g1,
        {{g2}} as g2,
        {{g1_extra}} as g1_extra,
        count(*) as calls,
        avg(mos) as avg_mos,
        min(mos) as min_mos,
        count(mos) as mos_calls,
        -- count_if: a FILTER clause on count(*) costs DuckDB more per row
        count_if(mos < 3.5) as low_mos,
        avg(jitter_ms) as avg_jitter_ms,
        quantile_cont(jitter_ms, 0.95) as p95_jitter_ms,
        avg(latency_ms) as avg_latency_ms,
        quantile_cont(latency_ms, 0.95) as p95_latency_ms,
        avg(packet_loss_pct) as avg_loss_pct,
        quantile_cont(packet_loss_pct, 0.95) as p95_loss_pct,
        count_if(mos < 3.5 or packet_loss_pct > 1) as poor
    from measured
    group by {{group_keys}}
),

final as (
    select
        *,
        low_mos / nullif(mos_calls, 0) as low_mos_share,
        poor / nullif(calls, 0) as poor_share
    from grouped
    order by avg_mos nulls last, calls desc, g1 nulls last, g2 nulls last
    limit $limit
)

select * from final
