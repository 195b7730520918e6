-- The answer figures of each group of offers, shared by answer_rate.sql and hunt_pilots.sql: a query
-- that defines `outcomes` (one row per offer, with its outcome and wait_s) reads it as
-- {{sql:answer_summary}}. Tokens: {{g1}}, {{g2}}, {{g1_extra}}, {{group_keys}}. Parameters: $answer_within_s.
with grouped as (
    select
        {{g1}} as g1,
        {{g2}} as g2,
        {{g1_extra}} as g1_extra,
        count(*) as offered,
        -- count_if: a FILTER clause on count(*) costs DuckDB more per row
        count_if(outcome = 'answered') as answered,
        count_if(outcome = 'answered' and wait_s <= $answer_within_s) as answered_within,
        avg(wait_s) filter (where outcome = 'answered') as avg_answer_s,
        quantile_cont(wait_s, 0.9) filter (where outcome = 'answered') as p90_answer_s,
        max(wait_s) filter (where outcome = 'answered') as max_answer_s,
        count_if(outcome = 'abandoned') as abandoned,
        count_if(outcome = 'overflowed') as overflowed,
        count_if(outcome = 'not_answered') as not_answered,
        avg(wait_s) filter (where outcome = 'abandoned') as avg_abandon_s
    from outcomes
    group by {{group_keys}}
)

select
    g1,
    g2,
    g1_extra,
    offered,
    answered,
    answered / nullif(offered, 0) as answer_rate,
    answered_within,
    answered_within / nullif(offered, 0) as service_level,
    avg_answer_s,
    p90_answer_s,
    max_answer_s,
    abandoned,
    overflowed,
    not_answered,
    avg_abandon_s
from grouped
