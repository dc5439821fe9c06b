-- billing_daily: what each provider's exports bill per day, provider and currency.
-- Parameters: $lines (Parquet path of one day of lake/billing_lines).
-- *_usd columns are filled for USD bills only; other currencies keep their own columns (no FX here).
-- Model and token-type detail is in reconciliation_daily; line detail in the lake's billing_lines.
SELECT
    day,
    provider,
    billing_currency,
    count(*)::BIGINT                                                          AS lines,
    sum(CASE WHEN consumed_unit = 'tokens' THEN consumed_quantity END)::DECIMAL(38, 0) AS billed_tokens,
    sum(billed_cost)::DECIMAL(38, 12)                                         AS billed_cost,
    sum(effective_cost)::DECIMAL(38, 12)                                      AS effective_cost,
    sum(list_cost)::DECIMAL(38, 12)                                           AS list_cost,
    sum(CASE WHEN billed_cost < 0 THEN billed_cost ELSE 0 END)::DECIMAL(38, 12) AS credits,
    CASE WHEN billing_currency = 'USD' THEN sum(billed_cost) END::DECIMAL(38, 12)    AS billed_cost_usd,
    CASE WHEN billing_currency = 'USD' THEN sum(effective_cost) END::DECIMAL(38, 12) AS effective_cost_usd
FROM read_parquet($lines)
GROUP BY day, provider, billing_currency
ORDER BY day, provider, billing_currency
