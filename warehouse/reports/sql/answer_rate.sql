-- Incoming call analysis per line: the calls offered to each extension and what became of them.
-- The offers, and what an offer and each outcome are, come from warehouse/sql/offers.sql: one row per
-- call ringing a line, its first leg's columns with the line as `extension` and its owner at the
-- first ring. answered + abandoned + overflowed + not_answered = offered. The person's scope and
-- options apply to that first leg: an offer belongs to the period it started in, and shows to whoever
-- may see its line.
-- Tokens: {{offers}} (the stored offers, or the same worked out from the calls), {{where}} (scope and
-- options, on a relation `c` with the calls' columns), {{g1}}, {{g2}}, {{g1_extra}}.
-- Parameters: $zone, $limit, $answer_within_s. Seconds.

with outcomes as (
    select *
    from {{offers}}
    where {{where}}
)

select *
from {{sql:answer_summary}} as s
order by offered desc, g1 nulls last, g2 nulls last
limit $limit
