"""The report's charts as SVG files inside every release, and the report's green-manufacturing
part, over the one release of the portal tests (tests/portal_support.py)."""

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl

from portal.chart_svg import write_report_svgs
from portal.releases import Warehouse
from portal.report import report_data
from tests.portal_support import built, warehouse  # noqa: F401  (fixtures)
from tests.portal_support import PASSWORD, SHANGCHENG, XIHU, login, portal_server
from warehouse.release import verify_release

SVG = "{http://www.w3.org/2000/svg}"


def release_dir(warehouse: Path) -> Path:
    return (warehouse / "latest").resolve()


def svg_text(path: Path) -> str:
    """Every text element of an SVG file, joined (the file must parse as XML)."""
    return " ".join(t.text or "" for t in ET.parse(path).getroot().iter(f"{SVG}text"))


def test_every_release_holds_its_report_charts_as_svg_listed_in_the_manifest(warehouse):
    release = release_dir(warehouse)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    progress = pl.read_parquet(release / "open" / "target_progress.parquet")
    districts = sorted(set(progress["scope_code"].to_list()) - {"330100"})
    expected = {f"charts/{scope}-{i}.svg" for scope in ["city", *districts] for i in ("energy_intensity", "co2_intensity")}
    # key groups, 高耗低效, grades, classes; the release has city_month, intensity_monthly with
    # value-added growth (the early warning) and green_manufacturing_progress
    expected |= {f"charts/{c}.svg" for c in ("key-groups", "hcle", "carbon-grades", "mu-classes", "city-month",
                                             "early-warning", "green-factories", "green-parks")}
    assert set(manifest["charts"]) == expected
    hashed = {f["path"]: f for f in manifest["files"]}
    assert expected <= set(hashed)
    assert verify_release(release) == []
    city = svg_text(release / "charts" / "city-energy_intensity.svg")
    assert "杭州市 · 单位增加值能耗" in city and "目标路径" in city
    # A district suppressed in some year shows the marker, never a number in its place.
    hidden = progress.filter(pl.col("suppressed") & (pl.col("indicator") == "energy_intensity"))["scope_code"]
    assert hidden.len() > 0
    assert "已抑制" in svg_text(release / "charts" / f"{hidden[0]}-energy_intensity.svg")
    # The heatmaps name their axes.
    grades = svg_text(release / "charts" / "carbon-grades.svg")
    assert "碳效等级" in grades and "区县" in grades and "企业数" in grades
    assert "亩均分类" in svg_text(release / "charts" / "mu-classes.svg")
    green = svg_text(release / "charts" / "green-factories.svg")
    target = pl.read_parquet(release / "open" / "green_manufacturing_progress.parquet").filter(
        pl.col("scope_code") == "330100")["factory_target"].max()
    assert f"目标 {target}" in green


def test_the_charts_drawn_again_are_byte_identical(warehouse, tmp_path):
    release = release_dir(warehouse)
    files = write_report_svgs(Warehouse(warehouse).release(), tmp_path / "again")
    assert len(files) == len(list((release / "charts").iterdir()))
    for f in files:
        assert f.read_bytes() == (release / "charts" / f.name).read_bytes(), f.name


P1_NOTE = "产品P1的限额值转录自标准，待独立核对"


def green_copy(warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the release with hand-written green-manufacturing and over-limit tables."""
    copy = tmp_path / "wh"
    name = release_dir(warehouse).name
    shutil.copytree(release_dir(warehouse), copy / "releases" / name)
    shutil.copytree(warehouse / "portal", copy / "portal")
    (copy / "latest").symlink_to(Path("releases") / name)
    template = pl.read_parquet(copy / "latest" / "open" / "green_manufacturing_progress.parquet")
    rows = [  # scope, year, factories (national, provincial, city), parks, status
        ("330100", 2024, 300, 40, 100, 160, 6, "on_track", "on_track"),
        ("330100", 2025, 380, 50, 120, 210, 8, "behind", "behind"),
        (SHANGCHENG, 2025, 12, 1, 4, 7, 0, None, None),
        (XIHU, 2025, 9, 0, 3, 6, 1, None, None),
    ]
    frame = pl.DataFrame([{
        "scope_code": s, "year": y, "green_factories": f, "green_parks": p, "factories_national": n,
        "factories_provincial": pr, "factories_city": c, "parks_national": 0, "parks_provincial": p, "parks_city": 0,
        "factory_target": 400 if s == "330100" else None, "park_target": 10 if s == "330100" else None,
        "target_year": 2025 if s == "330100" else None, "factory_status": fs, "park_status": ps}
        for s, y, f, n, pr, c, p, fs, ps in rows], schema=template.schema)
    frame.write_parquet(copy / "latest" / "open" / "green_manufacturing_progress.parquet")
    over = pl.read_parquet(copy / "latest" / "restricted" / "over_limit_list.parquet")
    firms = [("91330102A1", SHANGCHENG, 2024, "P1"), ("91330102A1", SHANGCHENG, 2024, "P2"),
             ("91330106B2", XIHU, 2024, "P1"), ("91330106B2", XIHU, 2025, "P1")]
    listed = pl.DataFrame([{c: None for c in over.columns} | {
        "uscc": u, "district_code": d, "year": y, "product_code": p, "enterprise_name": f"企业{u[-2:]}",
        "product_name": f"产品{p}", "unit_energy": 1234.5, "limit_value": 1000.0, "unit": "kgce/t",
        # P1's limit is of medium confidence with its reference row's note, P2's of high without one
        "confidence": "medium" if p == "P1" else "high", "check_note": P1_NOTE if p == "P1" else None}
        for u, d, y, p in firms], schema=over.schema)
    listed.write_parquet(copy / "latest" / "restricted" / "over_limit_list.parquet")
    for code in (SHANGCHENG, XIHU):
        listed.filter(pl.col("district_code") == code).write_parquet(
            copy / "latest" / "districts" / code / "over_limit_list.parquet")
    return copy


def test_green_factories_and_over_limit_firms_in_the_report_and_the_districts_own_list(warehouse, tmp_path):
    import httpx

    copy = green_copy(warehouse, tmp_path)
    data = report_data(Warehouse(copy).release())
    green = data["green"]
    assert green["years"] == [2024, 2025] and green["factories"] == [300, 380] and green["parks"] == [6, 8]
    assert (green["factory_target"], green["park_target"], green["target_year"]) == (400, 10, 2025)
    assert green["latest"]["factory_status"] == "behind"
    assert green["districts"] == [{"code": SHANGCHENG, "name": "上城区", "factories": 12, "parks": 0},
                                  {"code": XIHU, "name": "西湖区", "factories": 9, "parks": 1}]
    # Distinct firms per year: 2024 A1 (two products) and B2 = 2; 2025 B2 = 1.
    # The limit values behind the count: high (P2) and medium (P1, with its note), in the
    # contract's order of levels.
    assert data["over_limit"] == {"years": [2024, 2025], "firms": [2, 1], "confidence": ["high", "medium"],
                                  "check_notes": [P1_NOTE]}
    with portal_server(copy, None) as url:
        page = httpx.get(url + "/report").text
        green_part = page.split('id="green"')[1].split("</section>")[0]
        assert "400 家工厂、10 个园区，2025 年" in green_part
        assert "绿色工厂 380 家（国家级 50、省级 120、市级 210）" in green_part and "滞后" in green_part
        over_part = page.split('id="over-limit"')[1].split("</section>")[0]
        assert "<td class=\"num\">2</td><td class=\"num\">1</td>" in over_part.replace("\n", "")
        assert "企业A1" not in page and "企业B2" not in page  # the list itself is restricted
        assert "限额值可信度：高、中" in over_part and P1_NOTE in over_part
        english = httpx.get(url + "/report", params={"lang": "en"}).text.split('id="over-limit"')[1]
        assert "Confidence of the limit values: high, medium" in english.split("</section>")[0]
        clerk = login(url, "clerk102", PASSWORD)
        own = clerk.get(f"/district/{SHANGCHENG}").text.split('id="over-limit"')[1].split("</section>")[0]
        clerk.close()
    assert own.count("企业A1") == 2 and "产品P2" in own and "企业B2" not in own and "1,234.5" in own
    # each firm's row carries the confidence of its limit value in Chinese, P1's note beside it
    rows = {re.search(r"<td>(产品P\d)</td>", r).group(1): r for r in own.split("<tr>")[2:]}  # by product name
    assert '<td class="confidence">中</td>' in rows["产品P1"] and P1_NOTE in rows["产品P1"]
    assert '<td class="confidence">高</td>' in rows["产品P2"] and P1_NOTE not in rows["产品P2"]


def test_report_charts_command_draws_svg_in_english_without_a_browser(warehouse, tmp_path):
    from tests.conftest import run_cli

    done = run_cli("report-charts", "--warehouse", str(warehouse), "--out", str(tmp_path / "en"),
                   "--format", "svg", "--lang", "en")
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in (tmp_path / "en").iterdir())
    assert names == sorted(p.name for p in (release_dir(warehouse) / "charts").iterdir())
    assert "Energy intensity" in svg_text(tmp_path / "en" / "city-energy_intensity.svg")
    assert "Carbon grade" in svg_text(tmp_path / "en" / "carbon-grades.svg")
    refused = run_cli("report-charts", "--warehouse", str(warehouse), "--out", str(tmp_path / "x"),
                      "--format", "svg", "--release", "../..")
    assert refused.returncode == 2 and not (tmp_path / "x").exists()
