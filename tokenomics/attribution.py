"""Attribution: fill `team` and `feature` on usage rows from their hint columns, by ordered rules.

Each rule becomes one Polars expression that is null where it does not match; `pl.coalesce` over
the rules in order gives first-match-wins, with 'unattributed' last, so the columns are never null.
Rules read only the hint columns kept on every row (gateway_team, key_alias, project, api_key_id,
model, request_tags, labels), so a day can be re-attributed from the lake after a rule change.
Empty or blank hints count as absent. The default rules are documented on `AttributionConfig`.
"""

from __future__ import annotations

import polars as pl

from tokenomics.config import AttributionConfig, AttributionRule, glob_regex
from tokenomics.schema import LABELS, UNATTRIBUTED, Schema

HINT_COLUMNS: Schema = {
    "gateway_team": pl.String,
    "key_alias": pl.String,
    "project": pl.String,
    "api_key_id": pl.String,
    "model": pl.String,
    "request_tags": pl.List(pl.String),
    "labels": LABELS,
}


def attribute(frame: pl.DataFrame, rules: AttributionConfig | None = None) -> pl.DataFrame:
    """`frame` with `team` and `feature` set by the first matching rule, else 'unattributed'."""
    rules = rules if rules is not None else AttributionConfig()
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in HINT_COLUMNS.items() if name not in frame.columns]
    hinted = frame.with_columns(missing) if missing else frame
    attributed = hinted.with_columns(team=first_match(rules.team), feature=first_match(rules.feature))
    return attributed.drop([expr.meta.output_name() for expr in missing])


def first_match(rules: list[AttributionRule]) -> pl.Expr:
    """The first non-null rule result, else 'unattributed'."""
    return pl.coalesce([rule_expr(rule) for rule in rules] + [pl.lit(UNATTRIBUTED)])


def rule_expr(rule: AttributionRule) -> pl.Expr:
    """One rule as an expression: the name it yields, or null where it does not apply."""
    if rule.field == "tag":
        return _tag_rule(rule)
    if rule.field == "label":
        hint = pl.col("labels").list.eval(
            pl.element().filter(pl.element().struct.field("key") == rule.key).struct.field("value")
        )
        return _scalar_rule(_present(hint.list.first()), rule)
    return _scalar_rule(_present(pl.col(rule.field)), rule)


def _present(hint: pl.Expr) -> pl.Expr:
    """Blank hints are absent: a gateway that sends "" has not named a team."""
    return pl.when(hint.str.strip_chars() != "").then(hint)


def _condition(hint: pl.Expr, rule: AttributionRule) -> pl.Expr | None:
    if rule.pattern is not None:
        return hint.str.contains(glob_regex(rule.pattern))
    if rule.equals is not None:
        return hint == rule.equals
    if rule.prefix is not None:
        return hint.str.starts_with(rule.prefix)
    return None


def _yield(hint: pl.Expr, rule: AttributionRule) -> pl.Expr:
    """What a matching hint yields: the fixed value, the remainder after the prefix, or itself, mapped."""
    if rule.value is not None:
        return pl.lit(rule.value)
    named = hint.str.strip_prefix(rule.prefix) if rule.prefix is not None else hint
    if rule.map is not None:
        named = named.replace_strict(rule.map, default=pl.lit(None, pl.String), return_dtype=pl.String)
    return named


def _scalar_rule(hint: pl.Expr, rule: AttributionRule) -> pl.Expr:
    condition = _condition(hint, rule)
    named = _yield(hint, rule)
    return _present(pl.when(condition).then(named) if condition is not None else named)


def _tag_rule(rule: AttributionRule) -> pl.Expr:
    """The name yielded by the first request tag that yields one (condition met, in the map if any)."""
    tag = pl.element()
    named = _present(_yield(tag, rule))
    condition = _condition(tag, rule)
    per_tag = pl.when(condition).then(named) if condition is not None else named
    return pl.col("request_tags").list.eval(per_tag).list.drop_nulls().list.first()
