-- reconciliation_daily: the gateway's cost estimate against the provider's bill, per day, provider and model.
-- Parameters (Parquet path or glob of ONE day each; an empty partition file is fine, the path must exist):
--   $usage = lake/usage_events/day=D, $billing = lake/billing_lines/day=D, $provider_usage = lake/provider_usage/day=D.
-- Money is DECIMAL(38, 12) (USD bills only: other currencies are counted in billed_non_usd_lines, not converted).
-- billed_cost_usd is what the bill finally charges: FOCUS EffectiveCost, after negotiated discounts and credits
-- carried on the line (GCP promotions); billed_cost_before_credits_usd is the BilledCost column as exported.
-- Token columns follow the inclusive convention of usage_events (input includes cache reads and writes).
-- Bills list token types disjointly (input = uncached input): billed_input_tokens is made inclusive here.
-- provider_*_tokens are the provider's own counts: provider_usage when it has the model, else the bill's
-- consumed quantities (provider_tokens_from says which). Gaps are classified by tokenomics/finance/reconcile.py.
--
-- Model key: bills and gateways spell one model differently (gpt-4o-2024-08-06 / gpt-4o, Bedrock ids
-- anthropic.claude-3-5-sonnet-20240620-v1:0 / Claude3.5Sonnet, Azure meters "gpt 4o 1120"). Every model
-- string is reduced to one key by the macro model_key(name) (sql/macros/model_key.sql, generated from the
-- table in tokenomics/model_key.py, which savings, TCO and the SKU parsers read too).
-- Provider stays part of the join: Azure gpt-4o and OpenAI gpt-4o are different bills.
WITH
usage AS (SELECT * FROM read_parquet($usage)),
billing AS (SELECT * FROM read_parquet($billing)),
reported AS (SELECT * FROM read_parquet($provider_usage)),

names AS (
    SELECT DISTINCT provider, coalesce(model_id, model) AS name FROM usage
    UNION SELECT DISTINCT provider, model FROM billing
    UNION SELECT DISTINCT provider, model FROM reported
),
model_keys AS (
    SELECT provider, name, model_key(name) AS model_key FROM names
),

gateway AS (
    SELECT
        u.day, u.provider, k.model_key,
        string_agg(DISTINCT coalesce(u.model_id, u.model), ', ' ORDER BY coalesce(u.model_id, u.model)) AS gateway_models,
        sum(u.requests)::BIGINT                                           AS gateway_requests,
        sum(u.input_tokens)::BIGINT                                       AS gateway_input_tokens,
        sum(u.cache_read_tokens)::BIGINT                                  AS gateway_cache_read_tokens,
        sum(u.cache_write_tokens)::BIGINT                                 AS gateway_cache_write_tokens,
        sum(u.output_tokens)::BIGINT                                      AS gateway_output_tokens,
        sum(u.reasoning_tokens)::BIGINT                                   AS gateway_reasoning_tokens,
        coalesce(sum(u.cost_usd), 0)::DECIMAL(38, 12)                     AS gateway_cost_usd,
        sum(u.requests) FILTER (WHERE u.cost_source = 'unpriced')::BIGINT AS unpriced_requests,
        sum(u.input_tokens) FILTER (WHERE u.cost_source = 'unpriced')::BIGINT       AS unpriced_input_tokens,
        sum(u.cache_read_tokens) FILTER (WHERE u.cost_source = 'unpriced')::BIGINT  AS unpriced_cache_read_tokens,
        sum(u.cache_write_tokens) FILTER (WHERE u.cost_source = 'unpriced')::BIGINT AS unpriced_cache_write_tokens,
        sum(u.output_tokens) FILTER (WHERE u.cost_source = 'unpriced')::BIGINT      AS unpriced_output_tokens,
        sum(u.requests) FILTER (WHERE u.is_batch)::BIGINT                 AS batch_requests,
        sum(u.requests) FILTER (WHERE coalesce(u.service_tier, 'default') NOT IN ('default', 'auto', 'standard'))::BIGINT
                                                                          AS non_default_tier_requests,
        string_agg(DISTINCT u.price_ref, '; ' ORDER BY u.price_ref)      AS price_refs
    FROM usage u
    JOIN model_keys k ON k.provider IS NOT DISTINCT FROM u.provider AND k.name IS NOT DISTINCT FROM coalesce(u.model_id, u.model)
    GROUP BY ALL
),

billed AS (
    SELECT
        b.day, b.provider, k.model_key,
        string_agg(DISTINCT b.model, ', ' ORDER BY b.model)               AS billed_models,
        count(*)::BIGINT                                                  AS billed_lines,
        count(*) FILTER (WHERE b.billing_currency IS DISTINCT FROM 'USD')::BIGINT AS billed_non_usd_lines,
        coalesce(sum(b.owed) FILTER (WHERE usd), 0)::DECIMAL(38, 12)           AS billed_cost_usd,
        coalesce(sum(b.billed_cost) FILTER (WHERE usd), 0)::DECIMAL(38, 12)    AS billed_cost_before_credits_usd,
        coalesce(sum(b.list_cost) FILTER (WHERE usd), 0)::DECIMAL(38, 12)      AS list_cost_usd,
        sum(b.consumed_quantity) FILTER (WHERE tokens AND b.token_type = 'input')::BIGINT       AS billed_uncached_input_tokens,
        sum(b.consumed_quantity) FILTER (WHERE tokens AND b.token_type = 'cache_read')::BIGINT  AS billed_cache_read_tokens,
        sum(b.consumed_quantity) FILTER (WHERE tokens AND b.token_type = 'cache_write')::BIGINT AS billed_cache_write_tokens,
        sum(b.consumed_quantity) FILTER (WHERE tokens AND b.token_type = 'output')::BIGINT      AS billed_output_tokens,
        sum(b.owed) FILTER (WHERE usd AND b.token_type = 'input')::DECIMAL(38, 12)       AS billed_uncached_input_cost_usd,
        sum(b.owed) FILTER (WHERE usd AND b.token_type = 'cache_read')::DECIMAL(38, 12)  AS billed_cache_read_cost_usd,
        sum(b.owed) FILTER (WHERE usd AND b.token_type = 'cache_write')::DECIMAL(38, 12) AS billed_cache_write_cost_usd,
        sum(b.owed) FILTER (WHERE usd AND b.token_type = 'output')::DECIMAL(38, 12)      AS billed_output_cost_usd,
        coalesce(sum(b.owed) FILTER (
            WHERE usd AND coalesce(b.token_type, 'other') NOT IN ('input', 'cache_read', 'cache_write', 'output')
        ), 0)::DECIMAL(38, 12)                                            AS billed_other_cost_usd
    FROM (
        SELECT *, billing_currency = 'USD' AS usd, lower(coalesce(consumed_unit, '')) IN ('tokens', 'token') AS tokens,
               coalesce(effective_cost, billed_cost) AS owed
        FROM billing
    ) b
    JOIN model_keys k ON k.provider IS NOT DISTINCT FROM b.provider AND k.name IS NOT DISTINCT FROM b.model
    GROUP BY ALL
),

provider_reported AS (
    SELECT
        r.day, r.provider, k.model_key,
        string_agg(DISTINCT r.model, ', ' ORDER BY r.model)               AS reported_models,
        sum(r.requests)::BIGINT                                           AS reported_requests,
        sum(r.input_tokens)::BIGINT                                       AS reported_input_tokens,
        sum(r.cache_read_tokens)::BIGINT                                  AS reported_cache_read_tokens,
        sum(r.cache_write_tokens)::BIGINT                                 AS reported_cache_write_tokens,
        sum(r.output_tokens)::BIGINT                                      AS reported_output_tokens
    FROM reported r
    JOIN model_keys k ON k.provider IS NOT DISTINCT FROM r.provider AND k.name IS NOT DISTINCT FROM r.model
    GROUP BY ALL
),

joined AS (
    SELECT
        coalesce(g.day, b.day, p.day)                    AS day,
        coalesce(g.provider, b.provider, p.provider)     AS provider,
        coalesce(g.model_key, b.model_key, p.model_key)  AS model_key,
        g.*  EXCLUDE (day, provider, model_key),
        b.*  EXCLUDE (day, provider, model_key),
        p.*  EXCLUDE (day, provider, model_key),
        b.billed_uncached_input_tokens IS NOT NULL OR b.billed_cache_read_tokens IS NOT NULL
            OR b.billed_cache_write_tokens IS NOT NULL OR b.billed_output_tokens IS NOT NULL AS bill_has_tokens
    FROM gateway g
    FULL JOIN billed b USING (day, provider, model_key)
    FULL JOIN provider_reported p USING (day, provider, model_key)
)

SELECT
    day,
    provider,
    coalesce(split_part(gateway_models, ', ', 1), split_part(reported_models, ', ', 1),
             split_part(billed_models, ', ', 1), '(none)')                  AS model,
    model_key,
    gateway_models,
    billed_models,
    coalesce(gateway_cost_usd, 0)::DECIMAL(38, 12)                          AS gateway_cost_usd,
    coalesce(billed_cost_usd, 0)::DECIMAL(38, 12)                           AS billed_cost_usd,
    (coalesce(billed_cost_usd, 0) - coalesce(gateway_cost_usd, 0))::DECIMAL(38, 12) AS gap_usd,
    CASE WHEN billed_cost_usd > 0 THEN (coalesce(gateway_cost_usd, 0) / billed_cost_usd)::DECIMAL(18, 6) END
                                                                            AS capture_rate,
    coalesce(billed_cost_before_credits_usd, 0)::DECIMAL(38, 12)            AS billed_cost_before_credits_usd,
    coalesce(list_cost_usd, 0)::DECIMAL(38, 12)                             AS list_cost_usd,
    coalesce(billed_lines, 0)::BIGINT                                       AS billed_lines,
    coalesce(billed_non_usd_lines, 0)::BIGINT                               AS billed_non_usd_lines,
    coalesce(gateway_requests, 0)::BIGINT                                   AS gateway_requests,
    coalesce(gateway_input_tokens, 0)::BIGINT                               AS gateway_input_tokens,
    coalesce(gateway_cache_read_tokens, 0)::BIGINT                          AS gateway_cache_read_tokens,
    coalesce(gateway_cache_write_tokens, 0)::BIGINT                         AS gateway_cache_write_tokens,
    coalesce(gateway_output_tokens, 0)::BIGINT                              AS gateway_output_tokens,
    coalesce(gateway_reasoning_tokens, 0)::BIGINT                           AS gateway_reasoning_tokens,
    CASE WHEN reported_models IS NOT NULL THEN 'provider_usage'
         WHEN bill_has_tokens THEN 'billing_lines' END                      AS provider_tokens_from,
    CASE WHEN reported_models IS NOT NULL THEN reported_input_tokens
         WHEN bill_has_tokens THEN coalesce(billed_uncached_input_tokens, 0) + coalesce(billed_cache_read_tokens, 0)
                                   + coalesce(billed_cache_write_tokens, 0) END::BIGINT AS provider_input_tokens,
    CASE WHEN reported_models IS NOT NULL THEN reported_cache_read_tokens
         WHEN bill_has_tokens THEN coalesce(billed_cache_read_tokens, 0) END::BIGINT   AS provider_cache_read_tokens,
    CASE WHEN reported_models IS NOT NULL THEN reported_cache_write_tokens
         WHEN bill_has_tokens THEN coalesce(billed_cache_write_tokens, 0) END::BIGINT  AS provider_cache_write_tokens,
    CASE WHEN reported_models IS NOT NULL THEN reported_output_tokens
         WHEN bill_has_tokens THEN coalesce(billed_output_tokens, 0) END::BIGINT       AS provider_output_tokens,
    reported_requests                                                       AS provider_requests,
    (CASE WHEN bill_has_tokens THEN coalesce(billed_uncached_input_tokens, 0) + coalesce(billed_cache_read_tokens, 0)
                                    + coalesce(billed_cache_write_tokens, 0) END)::BIGINT AS billed_input_tokens,
    billed_cache_read_tokens,
    billed_cache_write_tokens,
    billed_output_tokens,
    billed_uncached_input_tokens,
    billed_uncached_input_cost_usd,
    billed_cache_read_cost_usd,
    billed_cache_write_cost_usd,
    billed_output_cost_usd,
    coalesce(billed_other_cost_usd, 0)::DECIMAL(38, 12)                     AS billed_other_cost_usd,
    coalesce(unpriced_requests, 0)::BIGINT                                  AS unpriced_requests,
    coalesce(unpriced_input_tokens, 0)::BIGINT                              AS unpriced_input_tokens,
    coalesce(unpriced_cache_read_tokens, 0)::BIGINT                         AS unpriced_cache_read_tokens,
    coalesce(unpriced_cache_write_tokens, 0)::BIGINT                        AS unpriced_cache_write_tokens,
    coalesce(unpriced_output_tokens, 0)::BIGINT                             AS unpriced_output_tokens,
    coalesce(batch_requests, 0)::BIGINT                                     AS batch_requests,
    coalesce(non_default_tier_requests, 0)::BIGINT                          AS non_default_tier_requests,
    price_refs
FROM joined
ORDER BY day, provider, model_key
