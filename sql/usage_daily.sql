-- usage_daily: one row per day, team, feature, provider and model (DESIGN section 5).
-- Parameters: $events (Parquet path of one day of lake/usage_events).
-- Token columns are inclusive (input includes cache reads/writes; output includes reasoning).
SELECT
    day,
    team,
    feature,
    provider,
    model,
    model_id,
    sum(requests)::BIGINT                                              AS requests,
    sum(CASE WHEN status = 'error' THEN requests ELSE 0 END)::BIGINT   AS errors,
    sum(input_tokens)::BIGINT                                          AS input_tokens,
    sum(cache_read_tokens)::BIGINT                                     AS cache_read_tokens,
    sum(cache_write_tokens)::BIGINT                                    AS cache_write_tokens,
    sum(output_tokens)::BIGINT                                         AS output_tokens,
    sum(reasoning_tokens)::BIGINT                                      AS reasoning_tokens,
    coalesce(sum(cost_usd), 0)::DECIMAL(38, 12)                        AS cost_usd,
    sum(CASE WHEN cost_source = 'unpriced' THEN requests ELSE 0 END)::BIGINT AS unpriced_requests,
    sum(CASE WHEN is_batch THEN requests ELSE 0 END)::BIGINT           AS batch_requests,
    coalesce(sum(reported_cost_usd), 0)::DECIMAL(38, 12)               AS reported_cost_usd
FROM read_parquet($events)
GROUP BY ALL
ORDER BY day, team, feature, provider, model
