-- Each gateway's load per quarter hour (UTC), worked out by the calls build and stored per UTC day
-- (lake dataset `gateway_load`, warehouse/gateway_load.py) so that the capacity reports over a month
-- or a year read quarters instead of sweeping every channel seizure (load_hours.sql, load_peaks.sql).
-- Every figure of a longer interval follows from its quarters: seconds and seizures add up, the peak
-- of an hour is the highest of its quarters' (each quarter's sweep starts from the calls already up),
-- and the legs up in an hour are those up in its first quarter plus those that took a channel in
-- the others. Tokens: {{calls}} (the carrier rows of the days, and of the day before: legs still up),
-- {{devices}}, for {{sql:carrier_intervals}}. Parameters: $period_start, $period_end (the UTC days
-- stored), $interval_s (900), $zone.
-- Output: the columns of carrier_intervals.sql, with the interval's start as quarter_start.

select * rename (bucket_start as quarter_start) from {{sql:carrier_intervals}}
