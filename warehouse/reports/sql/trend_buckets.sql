-- The trend's figures per bucket, shared by trend.sql (from the calls) and trend_rollup.sql (from the
-- quarter-hour rollups): a query that defines `filtered` (started_at, direction, currency, and per row
-- calls, missed, duration_s and cost) reads it as {{sql:trend_buckets}}. Tokens: {{bucket}}.
select
    {{bucket}} as g1,
    sum(calls) as calls,
    coalesce(sum(calls) filter (where direction = 'outgoing'), 0) as outgoing,
    coalesce(sum(calls) filter (where direction = 'incoming'), 0) as incoming,
    coalesce(sum(calls) filter (where direction = 'internal'), 0) as internal,
    sum(missed) as missed,
    sum(duration_s) as duration_s,
    sum(cost) as cost,
    min(currency) as currency
from filtered
group by 1
