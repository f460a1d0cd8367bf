"""Open data beside the Parquet of open/: CSV (UTF-8 with BOM) that matches its Parquet row for
row, one open-data workbook, a Frictionless datapackage.json from the contracts, and text that a
spreadsheet would run as a formula neutralised."""

import csv
import json
from datetime import datetime, timezone

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_contracts import published_tables, table_contract
from tests.test_release import EXTRA, make_candidate
from warehouse import release as rel

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
FORMULA = "=HYPERLINK(\"http://example.invalid\",\"点击\")"
OPEN = [t for t in published_tables() if table_contract(t).layer == "open"]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("opendata")
    candidate = make_candidate(root / "candidate")
    # a hostile name in a text column of an open table
    path = candidate / "open" / "district_year.parquet"
    table = pq.read_table(path)
    names = table.column("district_name").to_pylist()
    names[0], names[1] = FORMULA, "-1+1"
    table = table.set_column(table.schema.get_field_index("district_name"), "district_name",
                             pa.array(names, type=table.schema.field("district_name").type))
    pq.write_table(table, path)
    rid = rel.publish(candidate, root / "wh", EXTRA, now=DAY)
    return root / "wh" / "releases" / rid, rid


def _expected_text(value, field_type: str) -> str:
    if value is None:
        return ""
    if field_type == "boolean":
        return "true" if value else "false"
    if field_type == "string" and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return str(value) if field_type == "string" else value


def test_every_csv_matches_its_parquet_row_for_row(published):
    r, _ = published
    fields = {res["name"]: {f["name"]: f["type"] for f in res["schema"]["fields"]}
              for res in json.loads((r / "open" / "datapackage.json").read_text(encoding="utf-8"))["resources"]}
    for t in OPEN:
        assert (r / "open" / f"{t}.csv").read_bytes().startswith(b"\xef\xbb\xbf"), t  # the BOM
        with open(r / "open" / f"{t}.csv", encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        parquet = pq.read_table(r / "open" / f"{t}.parquet")
        assert rows[0] == parquet.column_names, t
        assert len(rows) - 1 == parquet.num_rows, t
        for got, want in zip(rows[1:], parquet.to_pylist()):
            for name, text in zip(rows[0], got):
                kind, value = fields[t][name], want[name]
                if kind == "number" and value is not None:
                    assert float(text) == value, (t, name)
                elif kind == "integer" and value is not None:
                    assert int(text) == value, (t, name)
                else:
                    assert text == _expected_text(value, kind), (t, name)


def test_formula_text_is_neutralised(published):
    r, _ = published
    with open(r / "open" / "district_year.csv", encoding="utf-8-sig", newline="") as f:
        names = [row["district_name"] for row in csv.DictReader(f)]
    assert names[0] == "'" + FORMULA and names[1] == "'-1+1"
    wb = openpyxl.load_workbook(r / "open" / "hzcarbon_open_data.xlsx")
    ws = wb["分区县年度"]
    col = [c.value for c in ws[1]].index("区县名称") + 1
    assert ws.cell(2, col).value == "'" + FORMULA and ws.cell(2, col).data_type == "s"
    assert ws.cell(3, col).value == "'-1+1"


def test_datapackage_from_the_contracts(published):
    r, rid = published
    dp = json.loads((r / "open" / "datapackage.json").read_text(encoding="utf-8"))
    assert dp["profile"] == "tabular-data-package" and dp["version"] == rid
    assert dp["licenses"][0]["name"] == "CC-BY-4.0"
    assert [res["name"] for res in dp["resources"]] == OPEN
    city = next(res for res in dp["resources"] if res["name"] == "city_year")
    assert city["path"] == "city_year.csv" and city["encoding"] == "utf-8-sig"
    energy = next(f for f in city["schema"]["fields"] if f["name"] == "energy_tce")
    assert energy == {**energy, "type": "number", "title": "综合能源消费量", "unit": "吨标准煤 (tce)"}
    assert city["schema"]["primaryKey"] == ["year"]
    for res in dp["resources"]:
        assert (r / "open" / res["path"]).is_file()


def test_open_workbook_and_manifest(published):
    r, rid = published
    wb = openpyxl.load_workbook(r / "open" / "hzcarbon_open_data.xlsx", read_only=True)
    assert wb.sheetnames == ["说明", *[table_contract(t).short_name_zh for t in OPEN]]
    wb.close()
    listed = {f["path"] for f in json.loads((r / "manifest.json").read_text(encoding="utf-8"))["files"]}
    assert {f"open/{t}.csv" for t in OPEN} | {"open/datapackage.json", "open/hzcarbon_open_data.xlsx"} <= listed
    assert rel.verify_release(r) == []
