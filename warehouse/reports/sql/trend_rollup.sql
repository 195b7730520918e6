-- Trend from the quarter-hour rollups (lake dataset `quarter_hours`, warehouse.calls.QUARTER_HOURS_SQL):
-- the same figures as trend.sql, read from about 35,000 quarters a year per direction instead of every
-- call. The engine runs it for a reader who may see every call, with no option but the period and the
-- traffic, when every day of the period has its quarters stored. A quarter's `started_at` is its start:
-- every time zone is a whole number of quarters off UTC, so quarters make up local hours, days and months.
-- Tokens: {{where}} (period and traffic, on a relation `c`), {{bucket}}. Parameters: $zone, $limit.

with filtered as (
    select *
    from (select *, true as counted from quarter_hours) as c
    where {{where}}
)

select * from {{sql:trend_buckets}} as t
order by g1
limit $limit
