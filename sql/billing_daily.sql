-- billing_daily: what each provider's exports bill per day, provider, currency, model and token type.
-- Parameters: $lines (Parquet path of one day of lake/billing_lines).
-- billed_cost_usd is filled for USD bills only; other currencies keep their own columns (no FX here).
SELECT
    day,
    provider,
    billing_currency,
    coalesce(model, '(none)')                                              AS model,
    coalesce(token_type, 'other')                                          AS token_type,
    count(*)::BIGINT                                                       AS lines,
    sum(CASE WHEN consumed_unit = 'tokens' THEN consumed_quantity END)::DECIMAL(38, 0) AS billed_tokens,
    sum(billed_cost)::DECIMAL(38, 12)                                      AS billed_cost,
    sum(effective_cost)::DECIMAL(38, 12)                                   AS effective_cost,
    sum(list_cost)::DECIMAL(38, 12)                                        AS list_cost,
    sum(CASE WHEN billing_currency = 'USD' THEN billed_cost END)::DECIMAL(38, 12)    AS billed_cost_usd,
    sum(CASE WHEN billing_currency = 'USD' THEN effective_cost END)::DECIMAL(38, 12) AS effective_cost_usd,
    sum(CASE WHEN billed_cost < 0 THEN billed_cost ELSE 0 END)::DECIMAL(38, 12)      AS credits
FROM read_parquet($lines)
GROUP BY ALL
ORDER BY day, provider, billing_currency, model, token_type
