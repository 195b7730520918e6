-- Call quality per group, from the CMR records of the calls: mean opinion score (1-5), jitter and
-- latency (ms), packet loss (%), as averages and as distributions (the share of calls under MOS 3.5,
-- the 95th percentiles of jitter, latency and loss), and how many calls were poor (MOS under 3.5 or
-- loss over 1 %, the thresholds of filters.POOR_QUALITY_SQL).
-- Tokens: {{calls}}, {{g1}}, {{g2}}, {{group_keys}}, {{g1_extra_parts}}, {{g1_extra_of_parts}}.
-- Parameters: $zone, $limit.
--
-- The calls are read once, grouped by group and by their jitter, latency and loss: those values
-- repeat (whole milliseconds, a few hundred losses), so the parts are few, and each group's figures
-- and exact percentiles follow from them without sorting any group's calls. Percentiles interpolate
-- between the two nearest calls, as quantile_cont does.

with measured as (
    select * from {{calls}}
    where mos is not null or jitter_ms is not null or latency_ms is not null or packet_loss_pct is not null
),

parts as materialized (
    select
        {{g1}} as g1,
        {{g2}} as g2,
        jitter_ms,
        latency_ms,
        packet_loss_pct,
        {{g1_extra_parts}},
        count(*) as calls,
        sum(mos) as mos_sum,
        min(mos) as min_mos,
        count(mos) as mos_calls,
        -- count_if: a FILTER clause on count(*) costs DuckDB more per row
        count_if(mos < 3.5) as low_mos,
        count_if(mos < 3.5 or packet_loss_pct > 1) as poor
    from measured
    group by {{group_keys}}, 3, 4, 5
),

groups as (
    select
        g1,
        g2,
        {{g1_extra_of_parts}} as g1_extra,
        sum(calls) as calls,
        sum(mos_sum) / nullif(sum(mos_calls), 0) as avg_mos,
        min(min_mos) as min_mos,
        sum(mos_calls) as mos_calls,
        sum(low_mos) as low_mos,
        sum(jitter_ms * calls) / nullif(sum(calls) filter (where jitter_ms is not null), 0) as avg_jitter_ms,
        sum(latency_ms * calls) / nullif(sum(calls) filter (where latency_ms is not null), 0) as avg_latency_ms,
        sum(packet_loss_pct * calls) / nullif(sum(calls) filter (where packet_loss_pct is not null), 0)
            as avg_loss_pct,
        sum(poor) as poor
    from parts
    group by g1, g2
),

counted_values as (
    select g1, g2, 'jitter' as measure, jitter_ms as value, sum(calls) as calls
    from parts where jitter_ms is not null group by g1, g2, jitter_ms
    union all
    select g1, g2, 'latency', latency_ms, sum(calls)
    from parts where latency_ms is not null group by g1, g2, latency_ms
    union all
    select g1, g2, 'loss', packet_loss_pct, sum(calls)
    from parts where packet_loss_pct is not null group by g1, g2, packet_loss_pct
),

ranked as (
    select
        *,
        -- the calls with this value or a lower one
        sum(calls) over (partition by g1, g2, measure order by value) as up_to,
        -- position 0.95 x (n - 1), counting the group's calls from 0 in the order of their values
        0.95 * (sum(calls) over (partition by g1, g2, measure) - 1) as position
    from counted_values
),

percentiles as (
    select
        g1,
        g2,
        measure,
        -- the values of the calls at the positions just below and just above, and how far between
        min(value) filter (where up_to > floor(position)) as below,
        min(value) filter (where up_to > ceil(position)) as above,
        any_value(position - floor(position)) as fraction
    from ranked
    group by g1, g2, measure
),

p95 as (
    select
        g1,
        g2,
        any_value(below + fraction * (above - below)) filter (where measure = 'jitter') as p95_jitter_ms,
        any_value(below + fraction * (above - below)) filter (where measure = 'latency') as p95_latency_ms,
        any_value(below + fraction * (above - below)) filter (where measure = 'loss') as p95_loss_pct
    from percentiles
    group by g1, g2
),

grouped as (
    select
        s.g1,
        s.g2,
        s.g1_extra,
        s.calls,
        s.avg_mos,
        s.min_mos,
        s.mos_calls,
        s.low_mos,
        s.avg_jitter_ms,
        p.p95_jitter_ms,
        s.avg_latency_ms,
        p.p95_latency_ms,
        s.avg_loss_pct,
        p.p95_loss_pct,
        s.poor
    from groups as s
    left join p95 as p on p.g1 is not distinct from s.g1 and p.g2 is not distinct from s.g2
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
