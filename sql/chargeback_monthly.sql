-- chargeback_monthly: what each team is charged per month, from the allocation_daily mart (DESIGN section 5).
-- Parameters: $allocation (Parquet glob of lake/marts/allocation_daily/*/*.parquet, any number of days).
-- allocation_daily is written by tokenomics/finance/allocation.py (allocate(): the method is configuration, and the
-- cents are made exact with a largest-remainder step), one row per day, provider, team, feature and model.
-- month is a DATE, the first day of the month (BI tools filter and sort it as a date).
-- Every amount is whole cents, so a month's team totals add up to the month's bills exactly.
-- reconciled_cost_usd: the part of the total on provider-days that have a bill (allocated to that bill);
-- unbilled_cost_usd: gateway estimates for provider-days without any bill (not reconciled, e.g. bill late);
-- reconciled_share = |reconciled| / (|reconciled| + |unbilled|) (absolute values: credits can be negative).
-- The 'unallocated' team row is the residual kept on its own line (allocation method 'unallocated').
SELECT
    date_trunc('month', day)::DATE                                               AS month,
    team,
    sum(direct_cost_usd)::DECIMAL(38, 12)                                        AS direct_cost_usd,
    sum(allocated_cost_usd)::DECIMAL(38, 12)                                     AS allocated_cost_usd,
    sum(total_cost_usd)::DECIMAL(38, 12)                                         AS total_cost_usd,
    coalesce(sum(total_cost_usd) FILTER (WHERE is_billed), 0)::DECIMAL(38, 12)   AS reconciled_cost_usd,
    coalesce(sum(total_cost_usd) FILTER (WHERE NOT is_billed), 0)::DECIMAL(38, 12) AS unbilled_cost_usd,
    CASE
        WHEN sum(abs(total_cost_usd)) > 0
        THEN (coalesce(sum(abs(total_cost_usd)) FILTER (WHERE is_billed), 0) / sum(abs(total_cost_usd)))::DECIMAL(9, 6)
    END                                                                          AS reconciled_share,
    string_agg(DISTINCT allocation_method, ', ' ORDER BY allocation_method)      AS allocation_methods,
    string_agg(DISTINCT allocation_basis, ', ' ORDER BY allocation_basis)        AS allocation_bases,
    string_agg(DISTINCT provider, ', ' ORDER BY provider)                        AS providers,
    count(DISTINCT feature)::BIGINT                                              AS features,
    count(DISTINCT day)::BIGINT                                                  AS days,
    min(day)                                                                     AS first_day,
    max(day)                                                                     AS last_day
FROM read_parquet($allocation, union_by_name = true, hive_partitioning = false)
GROUP BY ALL
ORDER BY month, team
