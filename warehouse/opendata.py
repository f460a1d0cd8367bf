"""Open data in the formats people use, beside the Parquet of ``open/``:

- ``open/<table>.csv``: every open table as CSV, UTF-8 with a BOM (so Excel opens Chinese
  text correctly), English column names as in the Parquet, nulls empty, booleans true/false;
- ``open/hzcarbon_open_data.xlsx``: one workbook, a sheet per open table (Chinese headers with
  units, number formats; warehouse.workbook);
- ``open/datapackage.json``: a Frictionless (tabular) Data Package descriptor generated from the
  contracts: release id, licence, and for each CSV its fields with type, Chinese title, unit and
  definition, and its primary key.

Text cells that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) get a leading apostrophe in the CSV and the workbook (formula injection).
"""

import json
from datetime import date
from pathlib import Path

import polars as pl

from data_contracts import published_tables, table_contract
from warehouse.reuse import Reuse
from warehouse.workbook import ReleaseInfo, neutralise_formula_text, write_open_workbook

DATAPACKAGE = "datapackage.json"
OPEN_WORKBOOK = "hzcarbon_open_data.xlsx"
FRICTIONLESS_TYPES = {"VARCHAR": "string", "INTEGER": "integer", "BIGINT": "integer", "DOUBLE": "number",
                      "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "datetime"}
LICENSE_PATHS = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/"}


def open_tables() -> list[str]:
    return [t for t in published_tables() if table_contract(t).layer == "open"]


def csv_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The table as it goes into CSV: text that looks like a formula neutralised."""
    return df.with_columns(neutralise_formula_text(pl.col(c)) for c, dt in df.schema.items() if dt == pl.String)


def write_open_formats(release_dir: Path, release: ReleaseInfo, reuse: Reuse | None = None) -> list[Path]:
    """Write the CSVs, the open-data workbook and datapackage.json into ``release_dir/open``
    from its Parquet files. Returns the files written (or reused). With ``reuse``, the CSV of a
    table whose Parquet bytes are those of the previous release is taken from it (warehouse.reuse)."""
    folder = Path(release_dir) / "open"
    tables = {t: pl.read_parquet(folder / f"{t}.parquet") for t in open_tables()}
    written = []
    for table, df in tables.items():
        path = folder / f"{table}.csv"
        if reuse is not None:
            inputs = reuse.hash(f"open/{table}.parquet")
            reuse.note("open_csv", table, inputs=inputs)
            if reuse.same_inputs("open_csv", table, inputs) and reuse.take(f"open/{table}.csv", f"open/{table}.csv"):
                written.append(path)
                continue
        csv_frame(df).write_csv(path, include_bom=True, null_value="", line_terminator="\r\n")
        written.append(path)
    written.append(write_open_workbook(folder / OPEN_WORKBOOK, release, tables))
    descriptor = datapackage(release, {t: df.height for t, df in tables.items()})
    path = folder / DATAPACKAGE
    path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(path)
    return written


def datapackage(release: ReleaseInfo, rows: dict[str, int]) -> dict:
    """The Frictionless Data Package descriptor of the open CSVs, from the contracts."""
    licenses = sorted({table_contract(t).license for t in rows if table_contract(t).license})
    return {
        "profile": "tabular-data-package",
        "name": "hzcarbon-open-data",
        "title": "杭州市工业领域碳达峰监测开放数据",
        "description": "Aggregate tables of Hangzhou's industrial energy use, CO2 and intensities after "
                       "statistical disclosure control; see data_dictionary.md of the release.",
        "version": release.release_id,
        "created": release.built.isoformat() if isinstance(release.built, date) else str(release.built),
        "hzcarbon:as_of": release.as_of,
        "licenses": [{"name": lic, "path": LICENSE_PATHS.get(lic, ""), "title": lic} for lic in licenses],
        "resources": [_resource(t, n) for t, n in rows.items()],
    }


def _resource(table: str, rows: int) -> dict:
    c = table_contract(table)
    resource = {
        "profile": "tabular-data-resource",
        "name": table,
        "path": f"{table}.csv",
        "title": c.label_zh,
        "description": c.purpose,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "dialect": {"delimiter": ",", "header": True, "lineTerminator": "\r\n"},
        "hzcarbon:rows": rows,
        "schema": {
            "fields": [_field(col) for col in c.columns],
            "primaryKey": c.primary_key,
            "missingValues": [""],
        },
    }
    if c.license:
        resource["licenses"] = [{"name": c.license, "path": LICENSE_PATHS.get(c.license, ""), "title": c.license}]
    return resource


def _field(col) -> dict:
    kind = FRICTIONLESS_TYPES.get(col.physical_type, "string")
    field = {"name": col.name, "type": kind, "title": col.label_zh, "description": col.description}
    if col.unit:
        field["unit"] = col.unit
    if kind == "boolean":
        field["trueValues"], field["falseValues"] = ["true"], ["false"]
    if col.required:
        field["constraints"] = {"required": True}
    return field
