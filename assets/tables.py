"""`dagster/column_schema` for every asset that publishes a warehouse table, from tokenomics/tables.yaml."""

import dagster as dg

from tokenomics.tables import reference


def column_schema(table: str) -> dg.TableSchema:
    """Column names and descriptions as the warehouse comments them; the type field carries the unit."""
    t = reference()[table]
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, type=c.unit or "-", description=c.description) for c in t.columns],
        constraints=dg.TableConstraints(other=[f"unique ({', '.join(t.grain)})"] if t.grain else []),
    )


def _with_schema(spec: dg.AssetSpec) -> dg.AssetSpec:
    table = spec.key.path[-1]
    if table not in reference() or reference()[table].is_view:
        return spec
    return spec.merge_attributes(metadata={"dagster/column_schema": column_schema(table)})


def with_column_schemas(assets):
    """The assets, each published table's asset given its column schema (the UI's Columns tab)."""
    return dg.map_asset_specs(_with_schema, assets)
