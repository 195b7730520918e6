-- Rating: prices every row of `rate_in` with the tariff tables of tariffs.book.register and the band
-- intervals `r_intervals`. Statements run in order; each leaves a temp table the next one (and
-- tariffs.rating.explain) reads. Money is whole units of 1e-8 of the plan currency times the
-- version's `units` (the common denominator of its price units), so every sum is exact.
-- rate_in: unit_id, plan, gateway, number_id, t0, duration_s; rate_numbers: number_id, digits (E.164 without
-- '+'), nation, dtype (destination type), direction ('out' | 'in').

CREATE OR REPLACE TEMP MACRO rl_pow10(n) AS CAST(10 ** n AS HUGEINT);

-- connect fee + usage, raised to the minimum charge, capped at the maximum cost; 0 when nothing was billed
CREATE OR REPLACE TEMP MACRO rl_total(d, connect_e8, usage_le8, minimum_e8, max_e8, units) AS
    CASE
        WHEN d <= 0 THEN CAST(0 AS HUGEINT)
        WHEN max_e8 IS NOT NULL
            THEN least(greatest(connect_e8 * units + usage_le8, minimum_e8 * units), max_e8 * units)
        ELSE greatest(connect_e8 * units + usage_le8, minimum_e8 * units)
    END;

-- an exact total rounded to `decimals` by `method`, as whole millionths (the DECIMAL(18,6) scale)
CREATE OR REPLACE TEMP MACRO rl_micro(total_le8, units, decimals, method) AS
    (CASE method
        WHEN 'down' THEN (total_le8 * rl_pow10(decimals)) // (units * 100000000)
        WHEN 'half_up' THEN (2 * total_le8 * rl_pow10(decimals) + units * 100000000) // (2 * units * 100000000)
        ELSE (total_le8 * rl_pow10(decimals) + units * 100000000 - 1) // (units * 100000000)
    END) * rl_pow10(6 - decimals);

-- the version in force when the call was answered
CREATE OR REPLACE TEMP TABLE r_units AS
SELECT
    u.unit_id,
    u.plan,
    u.gateway,
    u.number_id,
    u.t0,
    CAST(greatest(coalesce(u.duration_s, 0), 0) AS BIGINT) AS duration_s,
    p.plan_id,
    p.currency,
    e.epoch_id,
    e.version_id
FROM rate_in AS u
LEFT JOIN t_plans AS p ON p.plan = u.plan
ASOF LEFT JOIN t_epochs AS e ON e.plan_id = p.plan_id AND u.t0 >= e.epoch_start;

-- each distinct number once per epoch (an epoch is a span in which no price of the plan changes)
CREATE OR REPLACE TEMP TABLE r_match AS
WITH wanted AS (
    SELECT DISTINCT epoch_id, number_id FROM r_units WHERE version_id IS NOT NULL
),

nums AS (
    SELECT
        row_number() OVER () AS match_id,
        w.epoch_id,
        w.number_id,
        e.version_id,
        e.epoch_start,
        x.digits,
        x.nation,
        x.dtype,
        x.direction
    FROM wanted AS w
    JOIN t_epochs AS e ON e.epoch_id = w.epoch_id
    JOIN rate_numbers AS x ON x.number_id = w.number_id
),

-- the most specific key: the longest prefix, or a class (which beats the bare country code)
cand AS (
    SELECT n.match_id, k.key_id, k.spec
    FROM nums AS n
    JOIN t_lens AS l ON l.version_id = n.version_id AND l.len <= length(n.digits)
    JOIN t_keys AS k
        ON k.version_id = n.version_id
        AND k.kind = 'prefix'
        AND k.direction = n.direction
        AND k.prefix = left(n.digits, l.len)
    WHERE n.digits IS NOT NULL
        AND (k.effective_from IS NULL OR k.effective_from <= n.epoch_start)
        AND (k.effective_to IS NULL OR k.effective_to > n.epoch_start)
    UNION ALL
    SELECT n.match_id, k.key_id, k.spec
    FROM nums AS n
    JOIN t_keys AS k
        ON k.version_id = n.version_id
        AND k.kind = 'class'
        AND k.direction = n.direction
        AND k.class_type = n.dtype
        AND (k.class_nation = n.nation OR k.class_nation = '*')
    WHERE (k.effective_from IS NULL OR k.effective_from <= n.epoch_start)
        AND (k.effective_to IS NULL OR k.effective_to > n.epoch_start)
),

best AS (
    SELECT match_id, arg_max(key_id, spec) AS key_id FROM cand GROUP BY match_id
),

matched AS (
    SELECT
        n.*,
        b.key_id,
        k.kind,
        k.prefix,
        k.class_nation,
        k.class_type,
        k.destination,
        k.bandset_id,
        p.plan || '@' || v.version AS plan_version,
        v.version,
        v.band_mode,
        f.dtype IS NOT NULL AND NOT coalesce(k.kind = 'class' AND k.class_type = n.dtype, false) AS free_type,
        CASE
            WHEN k.kind = 'prefix' AND k.prefix = '' THEN 'any number'
            WHEN k.kind = 'prefix' THEN '+' || k.prefix
            WHEN k.kind = 'class' THEN k.class_nation || ' ' || k.class_type
        END AS key_label
    FROM nums AS n
    LEFT JOIN best AS b ON b.match_id = n.match_id
    LEFT JOIN t_keys AS k ON k.key_id = b.key_id
    JOIN t_versions AS v ON v.version_id = n.version_id
    JOIN t_plans AS p ON p.plan_id = v.plan_id
    LEFT JOIN t_free AS f ON f.version_id = n.version_id AND f.dtype = n.dtype
)

SELECT
    *,
    -- what the number alone decides; 'rate' still needs the band and the seconds
    CASE
        WHEN dtype = 'internal' THEN 'free'
        -- incoming calls cost nothing unless the plan has inbound rates for them
        WHEN direction = 'in' AND key_id IS NULL THEN 'free'
        WHEN free_type THEN 'free'
        WHEN dtype IS NULL OR dtype = 'unknown' THEN 'unrated'
        WHEN key_id IS NULL THEN 'unrated'
        ELSE 'rate'
    END AS verdict,
    CASE
        WHEN dtype = 'internal' THEN 'free: internal'
        WHEN direction = 'in' AND key_id IS NULL THEN 'incoming: not charged (' || plan_version || ')'
        WHEN free_type THEN 'free: ' || dtype || ' (' || plan_version || ')'
        WHEN dtype IS NULL OR dtype = 'unknown' THEN 'unrated: unknown destination'
        WHEN key_id IS NULL
            THEN 'unrated: no rate for ' || coalesce('+' || digits, nation || ' ' || dtype, dtype) || ' in ' || plan_version
        ELSE plan_version || ' ' || key_label
    END AS ref
FROM matched;

-- per unit: the verdict of its number, the band at the answer time, and the rate of the key for that band
CREATE OR REPLACE TEMP TABLE r_decided AS
WITH keyed AS (
    SELECT
        u.*,
        m.match_id,
        m.key_id,
        m.bandset_id,
        m.band_mode,
        m.verdict,
        x.dtype,
        x.direction,
        x.digits,
        x.nation
    FROM r_units AS u
    LEFT JOIN r_match AS m ON m.epoch_id = u.epoch_id AND m.number_id = u.number_id
    LEFT JOIN rate_numbers AS x ON x.number_id = u.number_id
),

banded AS (
    SELECT
        k.*,
        i.band,
        i.utc_to AS band_until,
        r.rate_id,
        coalesce(r.free_s, 0) AS free_s,
        greatest(k.duration_s - coalesce(r.free_s, 0), 0) AS d
    FROM keyed AS k
    ASOF LEFT JOIN r_intervals AS i
        ON i.version_id = k.version_id AND i.bandset_id = k.bandset_id AND k.t0 >= i.utc_from
    LEFT JOIN t_rates AS r ON r.key_id = k.key_id AND r.band = i.band
)

SELECT
    *,
    CASE
        WHEN verdict = 'rate' AND rate_id IS NULL THEN 'unrated'
        WHEN verdict = 'rate' THEN 'rated'
        WHEN verdict IS NOT NULL THEN verdict
        -- no plan, or no version in force: some calls cost nothing anyway
        WHEN dtype = 'internal' OR direction = 'in' THEN 'free'
        WHEN dtype IN ('emergency', 'toll_free') THEN 'free'
        ELSE 'unrated'
    END AS status
FROM banded;

-- the cost of each distinct (rate, chargeable seconds): billed seconds per step, exact money
CREATE OR REPLACE TEMP TABLE r_costs AS
WITH dist AS (
    SELECT DISTINCT rate_id, d FROM r_decided WHERE status = 'rated'
),

lay AS (
    SELECT
        x.rate_id,
        x.d,
        s.price_e8,
        s.mult,
        (greatest(least(x.d, coalesce(s.end_s, x.d)) - s.start_s, 0) + s.inc_s - 1) // s.inc_s * s.inc_s AS billed
    FROM dist AS x
    JOIN t_steps AS s ON s.rate_id = x.rate_id
),

used AS (
    SELECT
        rate_id,
        d,
        CAST(sum(billed) AS BIGINT) AS billed_s,
        sum(CAST(billed AS HUGEINT) * price_e8 * mult) AS usage_le8
    FROM lay
    GROUP BY rate_id, d
)

SELECT
    u.*,
    rl_total(u.d, r.connect_e8, u.usage_le8, r.minimum_e8, r.max_e8, r.units) AS total_le8
FROM used AS u
JOIN t_rates AS r ON r.rate_id = u.rate_id;

-- calls of "split" plans whose billed time runs past the end of the answer band
CREATE OR REPLACE TEMP TABLE r_cross AS
SELECT
    x.unit_id,
    x.key_id,
    x.version_id,
    x.bandset_id,
    x.rate_id,
    x.d,
    x.t0 + to_seconds(x.free_s) AS start_u,
    c.billed_s
FROM r_decided AS x
JOIN r_costs AS c ON c.rate_id = x.rate_id AND c.d = x.d
WHERE x.status = 'rated'
    AND x.band_mode = 'split'
    AND x.d > 0
    AND x.band_until IS NOT NULL
    AND x.t0 + to_seconds(x.free_s + c.billed_s) > x.band_until;

-- their billed seconds laid out from the answer time, cut at band boundaries: the k-th step's
-- seconds in a band are priced by the k-th step (or the last) of that band's rate
CREATE OR REPLACE TEMP TABLE r_pieces AS
WITH lay AS (
    SELECT
        c.unit_id,
        c.key_id,
        c.version_id,
        c.bandset_id,
        c.start_u,
        s.k,
        (greatest(least(c.d, coalesce(s.end_s, c.d)) - s.start_s, 0) + s.inc_s - 1) // s.inc_s * s.inc_s AS billed_k
    FROM r_cross AS c
    JOIN t_steps AS s ON s.rate_id = c.rate_id
),

placed AS (
    SELECT
        *,
        coalesce(
            sum(billed_k) OVER (PARTITION BY unit_id ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0
        ) AS from_s
    FROM lay
    WHERE billed_k > 0
),

cut AS (
    SELECT
        p.unit_id,
        p.key_id,
        p.k,
        i.band,
        greatest(i.utc_from, p.start_u + to_seconds(p.from_s)) AS piece_from,
        least(i.utc_to, p.start_u + to_seconds(p.from_s + p.billed_k)) AS piece_to
    FROM placed AS p
    JOIN r_intervals AS i
        ON i.version_id = p.version_id
        AND i.bandset_id = p.bandset_id
        AND i.utc_from < p.start_u + to_seconds(p.from_s + p.billed_k)
        AND i.utc_to > p.start_u + to_seconds(p.from_s)
)

SELECT
    c.unit_id,
    c.k,
    c.band,
    c.piece_from,
    c.piece_to,
    CAST(epoch(c.piece_to) - epoch(c.piece_from) AS BIGINT) AS seconds,
    r.rate_id AS band_rate_id,
    s.k AS band_step,
    s.price,
    s.per_s,
    CAST(epoch(c.piece_to) - epoch(c.piece_from) AS HUGEINT) * s.price_e8 * s.mult AS usage_le8
FROM cut AS c
LEFT JOIN t_rates AS r ON r.key_id = c.key_id AND r.band = c.band
LEFT JOIN t_steps AS s ON s.rate_id = r.rate_id AND s.k = least(c.k, r.nsteps - 1);

CREATE OR REPLACE TEMP TABLE r_cross_cost AS
WITH per_band AS (
    SELECT
        unit_id,
        band,
        min(piece_from) AS first_from,
        bool_or(band_rate_id IS NULL) AS missing,
        sum(usage_le8) AS usage_le8
    FROM r_pieces
    GROUP BY unit_id, band
)

SELECT
    unit_id,
    bool_or(missing) AS missing,
    string_agg(
        CASE WHEN band IS NULL THEN '(no band)' WHEN band = '' THEN 'any time' ELSE band END, '>' ORDER BY first_from
    ) AS bands,
    arg_min(coalesce(band, '(no band)'), first_from) FILTER (WHERE missing) AS missing_band,
    sum(usage_le8) AS usage_le8
FROM per_band
GROUP BY unit_id;

CREATE OR REPLACE TEMP TABLE r_out AS
WITH priced AS (
    SELECT
        x.unit_id,
        x.status,
        x.plan,
        x.plan_id,
        x.gateway,
        x.currency,
        x.version_id,
        x.key_id,
        x.rate_id,
        x.band,
        x.t0,
        x.dtype,
        x.direction,
        x.verdict,
        m.version,
        m.ref,
        m.plan_version,
        m.key_label,
        r.units,
        r.decimals,
        r.method,
        c.billed_s,
        cc.unit_id IS NOT NULL AS crossing,
        coalesce(cc.missing, false) AS missing,
        cc.missing_band,
        cc.bands,
        br.error AS plan_error,
        CASE
            WHEN cc.unit_id IS NOT NULL
                THEN rl_total(x.d, r.connect_e8, cc.usage_le8, r.minimum_e8, r.max_e8, r.units)
            ELSE c.total_le8
        END AS total_le8
    FROM r_decided AS x
    LEFT JOIN r_match AS m ON m.match_id = x.match_id
    LEFT JOIN t_rates AS r ON r.rate_id = x.rate_id
    LEFT JOIN r_costs AS c ON c.rate_id = x.rate_id AND c.d = x.d AND x.status = 'rated'
    LEFT JOIN r_cross_cost AS cc ON cc.unit_id = x.unit_id
    LEFT JOIN t_broken AS br ON br.plan = x.plan
),

settled AS (
    SELECT *, CASE WHEN status = 'rated' AND missing THEN 'unrated' ELSE status END AS final_status
    FROM priced
)

SELECT
    unit_id,
    final_status AS status,
    CASE
        WHEN final_status = 'rated'
            THEN CAST(CAST(rl_micro(total_le8, units, decimals, method) AS HUGEINT) * CAST(0.000001 AS DECIMAL(18, 6))
                AS DECIMAL(18, 6))
        WHEN final_status = 'free' THEN CAST(0 AS DECIMAL(18, 6))
    END AS plan_cost,
    CASE WHEN final_status <> 'unrated' THEN currency END AS plan_currency,
    CASE WHEN plan_id IS NOT NULL THEN plan END AS plan,
    version,
    key_id,
    rate_id,
    band,
    CASE WHEN final_status = 'rated' THEN billed_s END AS billed_s,
    CASE
        WHEN final_status = 'rated'
            THEN ref || ' ' || CASE WHEN crossing THEN bands ELSE coalesce(nullif(band, ''), 'any time') END
        WHEN missing
            THEN 'unrated: ' || ref || ' has no rate for band ' || coalesce(missing_band, '(none)') || ' later in the call'
        WHEN verdict = 'rate' AND band IS NULL
            THEN 'unrated: ' || ref || ' has no rate at this time (none of its bands covers it)'
        WHEN verdict = 'rate' THEN 'unrated: ' || ref || ' has no rate for band ' || band
        WHEN verdict IS NOT NULL THEN ref
        WHEN dtype = 'internal' THEN 'free: internal'
        WHEN direction = 'in' THEN 'incoming: not charged'
        WHEN final_status = 'free' THEN 'free: ' || dtype
        WHEN plan IS NULL OR plan = '' THEN 'unrated: no tariff plan' || coalesce(' for gateway ' || gateway, '')
        WHEN plan_error IS NOT NULL THEN 'unrated: tariff plan ' || plan || ' cannot be read: ' || plan_error
        WHEN plan_id IS NULL THEN 'unrated: no tariff plan named ' || plan || ' is installed'
        ELSE 'unrated: plan ' || plan || ' has no version in force at ' || strftime(t0, '%Y-%m-%d %H:%M:%S UTC')
    END AS rate_ref
FROM settled;
