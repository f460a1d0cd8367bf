"""The portal over real HTTP: a `hzcarbon serve` process on a free port, one release built by the
real pipeline (tests/portal_support.py), requests made with httpx."""

import io
import json
import re
import shutil
import stat
import zipfile
from contextlib import closing
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from portal.accounts import Accounts
from portal.releases import Warehouse
from portal.report import report_data
from tests.conftest import run_cli
from tests.portal_support import base, built, generated, landing, warehouse  # noqa: F401  (fixtures)
from tests.portal_support import (
    PASSWORD, UPLOAD_MAX_MB, SHANGCHENG, XIHU, audit_entries, workbook_of, csrf_of, login, messy_energy_csv, portal_server, tree,
)


@pytest.fixture
def clerk(base):
    client = login(base, "clerk102")
    yield client
    client.close()


def release_dir(warehouse: Path) -> Path:
    return (warehouse / "latest").resolve()


def entries_after(warehouse: Path, count: int) -> list[dict]:
    return audit_entries(warehouse)[count:]


# --- public pages -------------------------------------------------------------------------------

def test_public_pages_list_releases_and_open_tables_only(base, warehouse):
    import httpx

    release = release_dir(warehouse)
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    page = httpx.get(base + "/releases").text
    assert release.name in page and manifest["as_of"] in page
    tables = httpx.get(base + "/tables").text
    open_tables = sorted(n for n, t in manifest["tables"].items() if t["layer"] == "open")
    restricted = sorted(n for n, t in manifest["tables"].items() if t["layer"] == "restricted")
    assert all(f"/tables/{n}?" in tables for n in open_tables)
    assert not any(f"/tables/{n}?" in tables for n in restricted)
    assert httpx.get(base + "/tables/enterprise_year").status_code == 404
    assert httpx.get(base + "/tables/enterprise_year/download/csv").status_code == 404
    dictionary = httpx.get(base + "/dictionary").text
    assert "单位增加值能耗" in dictionary or "energy_intensity" in dictionary
    english = httpx.get(base + "/releases?lang=en").text
    assert "Releases" in english


def test_table_pages_are_paged_and_sorted_by_a_column_of_the_file(base, warehouse):
    import httpx

    frame = pl.read_parquet(release_dir(warehouse) / "open" / "district_year.parquet")
    page = httpx.get(base + "/tables/district_year", params={"page_no": 2}).text
    assert f"2 / {(frame.height + 49) // 50}" in page
    body = page.split("<tbody>")[1]
    assert body.count("<tr") == min(50, frame.height - 50)
    # Sorted by energy_tce descending: the first row holds the largest published value.
    top = frame["energy_tce"].drop_nulls().max()
    page = httpx.get(base + "/tables/district_year", params={"sort": "energy_tce", "desc": "true"}).text
    first_row = page.split("<tbody>")[1].split("</tr>")[0]
    assert f"{top:,.1f}" in first_row  # tonnes with thousands separators and one decimal
    # A sort that is not a column of the file is ignored, never put into a query.
    hostile = httpx.get(base + "/tables/district_year", params={"sort": 'year"; drop table x; --'})
    assert hostile.status_code == 200 and "drop table" not in hostile.text.split("<tbody>")[1]


def test_table_pages_are_chinese_first_with_formatted_numbers_and_value_labels(base, warehouse):
    import httpx

    city = pl.read_parquet(release_dir(warehouse) / "open" / "city_year.parquet").sort("year")
    page = httpx.get(base + "/tables/city_year", params={"sort": "year"}).text
    assert "<h1>全市年度 <small>city_year</small>" in page.replace("\n", "")
    header = page.split('data-column="coal_share"')[1].split("</th>")[0]
    assert header.index("煤炭") < header.index("<small>coal_share</small>")
    first_row = page.split("<tbody>")[1].split("</tr>")[0]
    row = city.row(0, named=True)
    assert f">{row['coal_share'] * 100:.1f}%<" in first_row  # a share as a percentage
    assert f">{row['energy_intensity']:.4f}<" in first_row  # an intensity with four decimals
    assert f">{row['year']}<" in first_row and f">{row['year']:,}<" not in first_row  # a year has no separator
    english = httpx.get(base + "/tables/city_year", params={"sort": "year", "lang": "en"}).text
    assert english.split('data-column="coal_share"')[1].split("</th>")[0].index("coal_share") < \
        english.split('data-column="coal_share"')[1].split("</th>")[0].index("<small>")
    # Coded values carry their Chinese label (valueLabelsZh), the code in the cell's title.
    district = pl.read_parquet(release_dir(warehouse) / "open" / "district_year.parquet").head(50)
    reasons = district["suppression_reason"].value_counts()
    page = httpx.get(base + "/tables/district_year").text
    counts = dict(reasons.iter_rows())
    assert page.count('<td title="count">企业数少于阈值</td>') == counts.get("count", 0) > 0
    assert page.count('<td title="dominance">少数大户占比过高</td>') == counts.get("dominance", 0)
    progress = pl.read_parquet(release_dir(warehouse) / "open" / "target_progress.parquet").head(50)
    page = httpx.get(base + "/tables/target_progress").text
    assert page.count('<td title="on_track">进度正常</td>') == progress["status"].eq("on_track").sum() > 0


def test_the_changelog_is_shown_as_html_with_its_markup_escaped(warehouse, tmp_path):
    import httpx

    page_of = {}
    copy = tmp_path / "wh"
    name = release_dir(warehouse).name
    shutil.copytree(release_dir(warehouse), copy / "releases" / name)
    (copy / "latest").symlink_to(Path("releases") / name)
    changes = (copy / "latest" / "changes.md").read_text(encoding="utf-8")
    assert changes.startswith("# ") and "\n## " in changes
    (copy / "latest" / "changes.md").write_text(changes + "\n- <script>alert(1)</script> **粗体**\n", encoding="utf-8")
    with portal_server(copy, None) as url:
        page_of["zh"] = httpx.get(url + "/releases").text
    part = page_of["zh"].split('<div class="changes">')[1].split("</div>")[0]
    first_title = changes.splitlines()[0].removeprefix("# ")
    assert f"<h1>{first_title}</h1>" in part and "<h2>" in part and "<li>" in part
    assert "## " not in part and "<pre" not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <strong>粗体</strong>" in part and "<script>" not in part


def test_suppressed_cells_are_shown_as_suppressed_not_zero(base, warehouse):
    import httpx

    frame = pl.read_parquet(release_dir(warehouse) / "open" / "district_year.parquet").head(50)
    hidden = frame.filter(pl.col("suppressed"))
    assert hidden.height > 0, "the fixture release should have suppressed district cells"
    expected_cells = sum(hidden.null_count().row(0))
    page = httpx.get(base + "/tables/district_year").text
    assert page.count('<td class="suppressed">') == expected_cells
    # The report's status table: a suppressed district-year says so for each indicator.
    progress = pl.read_parquet(release_dir(warehouse) / "open" / "target_progress.parquet")
    latest = progress.filter(pl.col("year") == pl.col("year").max().over("scope_code", "indicator"))
    report = httpx.get(base + "/report").text
    status_table = report.split('id="status-table"')[1].split("</table>")[0]
    assert status_table.count('class="suppressed"') == latest["suppressed"].sum()


def test_csv_xlsx_and_parquet_downloads_hold_the_published_rows(base, warehouse):
    import httpx

    path = release_dir(warehouse) / "open" / "district_year.parquet"
    frame = pl.read_parquet(path)
    before = len(audit_entries(warehouse))
    csv = httpx.get(base + "/tables/district_year/download/csv").content
    assert csv.startswith(b"\xef\xbb\xbf")
    assert_frame_equal(pl.read_csv(io.BytesIO(csv[3:]), schema=frame.schema), frame)
    xlsx = httpx.get(base + "/tables/district_year/download/xlsx").content
    assert pl.read_excel(io.BytesIO(xlsx)).height == frame.height
    assert httpx.get(base + "/tables/district_year/download/parquet").content == path.read_bytes()
    downloads = [e for e in entries_after(warehouse, before) if e["action"] == "download"]
    assert [e["target"].rsplit(".", 1)[1] for e in downloads] == ["csv", "xlsx", "parquet"]
    assert all(e["ip"] == "127.0.0.1" and e["time"] for e in downloads)


def test_report_figures_come_from_the_release(warehouse):
    data = report_data(Warehouse(warehouse).release())
    progress = pl.read_parquet(release_dir(warehouse) / "open" / "target_progress.parquet")
    city = progress.filter((pl.col("scope_code") == "330100") & (pl.col("indicator") == "energy_intensity")).sort("year")
    chart = data["progress"]["energy_intensity"][0]
    assert chart["scope_code"] == "330100" and chart["actual"] == city["actual_change"].to_list()
    # Path: (1 + target)^((t - base)/(target year - base)) - 1, from the base year.
    base_year, target_year, target = city["year"][0], city["target_year"][0], city["target_change"][0]
    expected = [(1 + target) ** ((y - base_year) / (target_year - base_year)) - 1 for y in city["year"]]
    assert chart["path"] == pytest.approx(expected)
    hcle = pl.read_parquet(release_dir(warehouse) / "restricted" / "high_consumption_low_efficiency.parquet")
    per_year = dict(hcle.group_by("year").agg(pl.col("uscc").n_unique()).iter_rows())
    assert dict(zip(data["hcle"]["years"], data["hcle"]["totals"])) == per_year
    # the release holds city_month (docs/monthly.md): the city's 1–N月 同比 of its latest year
    cm = pl.read_parquet(release_dir(warehouse) / "open" / "city_month.parquet")
    ytd = cm.filter((pl.col("period_type") == "ytd") & (pl.col("year") == cm["year"].max())).sort("month")
    assert ytd.height >= 2 and ytd["month"].to_list()[-1] == 12
    assert data["monthly"]["city_month"] == {"year": cm["year"].max(), "months": ytd["month"].to_list(), "series": {
        c: ytd[c].to_list() for c in ("energy_tce_yoy", "co2_total_t_yoy", "electricity_yoy")}}
    # and intensity_monthly (generate writes the bureau's value-added growth): the early warning of
    # the latest 1–12月, the districts behind in either intensity, the city first in its chart
    im = pl.read_parquet(release_dir(warehouse) / "open" / "intensity_monthly.parquet")
    last = im.filter((pl.col("period_type") == "ytd") & (pl.col("year") == cm["year"].max()) & (pl.col("month") == 12))
    warning = data["monthly"]["early_warning"]
    assert (warning["year"], warning["month"]) == (cm["year"].max(), 12)
    assert [r["scope_code"] for r in warning["rows"]] == sorted(last["scope_code"].to_list())
    behind = last.filter((pl.col("scope_code") != "330100")
                         & ((pl.col("energy_status") == "behind") | (pl.col("co2_status") == "behind")))
    assert warning["behind"] == behind.sort("scope_code")["scope_name"].to_list()
    city = last.filter(pl.col("scope_code") == "330100").row(0, named=True)
    assert warning["chart"]["scopes"][0] == "杭州市" and city["va_yoy"] is not None
    assert warning["chart"]["energy_intensity_yoy"][0] == pytest.approx(
        (1 + city["energy_yoy"]) / (1 + city["va_yoy"]) - 1)


def test_monthly_tables_are_shown_when_a_release_has_them(warehouse, tmp_path):
    import httpx

    copy = tmp_path / "wh"
    shutil.copytree(release_dir(warehouse), copy / "releases" / release_dir(warehouse).name)
    (copy / "latest").symlink_to(Path("releases") / release_dir(warehouse).name)
    month = pl.DataFrame({"year": [2025, 2025, 2025, 2025], "month": [2, 3, 3, 4],
                          "period_type": ["ytd", "ytd", "month", "ytd"],
                          "energy_tce_yoy": [-0.02, -0.031, 0.5, -0.04], "co2_total_t_yoy": [-0.03, -0.035, 0.4, None]})
    month.write_parquet(copy / "latest" / "open" / "city_month.parquet")
    warning = pl.DataFrame({
        "scope_code": ["330100", SHANGCHENG, XIHU, "330100"], "year": [2025, 2025, 2025, 2025], "month": [4, 4, 4, 3],
        "period_type": ["ytd", "ytd", "ytd", "ytd"],
        "energy_intensity_yoy": [-0.05, 0.01, None, -0.04], "energy_required_change": [-0.03, -0.03, -0.03, -0.03],
        "energy_status": ["on_track", "behind", None, "on_track"],
        "co2_intensity_yoy": [-0.06, -0.02, None, -0.05], "co2_required_change": [-0.04, -0.04, -0.04, -0.04],
        "co2_status": ["on_track", "at_risk", None, "on_track"], "suppressed": [False, False, True, False]})
    warning.write_parquet(copy / "latest" / "open" / "intensity_monthly.parquet")
    monthly = report_data(Warehouse(copy).release())["monthly"]
    # ytd rows of the latest year only, in month order; the single month row is not a 1–N月 figure.
    assert monthly["city_month"] == {"year": 2025, "months": [2, 3, 4], "series": {
        "energy_tce_yoy": [-0.02, -0.031, -0.04], "co2_total_t_yoy": [-0.03, -0.035, None]}}
    assert (monthly["early_warning"]["year"], monthly["early_warning"]["month"]) == (2025, 4)
    rows = {r["scope_code"]: r for r in monthly["early_warning"]["rows"]}
    assert rows[SHANGCHENG]["energy_status"] == "behind" and rows[XIHU]["suppressed"]
    with portal_server(copy, None) as url:
        page = httpx.get(url + "/report").text
    table = page.split('id="early-warning-table"')[1].split("</table>")[0]
    assert "滞后" in table and "有风险" in table and table.count('class="suppressed"') == 1
    assert 'id="chart-city-month"' in page
    # the districts behind are named (上城区; 西湖区 is suppressed), and charted with the city
    assert monthly["early_warning"]["behind"] == ["上城区"]
    assert monthly["early_warning"]["chart"]["scopes"] == ["杭州市", "上城区"]
    assert monthly["early_warning"]["chart"]["energy_required_change"] == [-0.03, -0.03]
    behind = page.split('id="early-warning-behind"')[1].split("</p>")[0]
    assert "进度滞后的区县" in behind and "上城区" in behind and "西湖区" not in behind
    assert 'id="chart-early-warning"' in page


# --- district area ------------------------------------------------------------------------------

def test_a_district_downloads_its_own_files_and_not_another_districts(base, warehouse, clerk):
    release = release_dir(warehouse)
    mine, theirs = workbook_of(release, SHANGCHENG), workbook_of(release, XIHU)
    assert mine.startswith(f"{SHANGCHENG}_上城区_") and theirs.startswith(f"{XIHU}_西湖区_")
    own = clerk.get(f"/district/{SHANGCHENG}/files/{release.name}/{mine}")
    assert own.status_code == 200
    assert own.content == (release / "districts" / SHANGCHENG / mine).read_bytes()
    before = len(audit_entries(warehouse))
    other = clerk.get(f"/district/{XIHU}/files/{release.name}/{theirs}")
    assert other.status_code == 403 and b"PK" not in other.content[:2]
    assert clerk.get(f"/district/{XIHU}").status_code == 403
    refused = entries_after(warehouse, before)
    assert [(e["user"], e["outcome"]) for e in refused] == [("clerk102", "forbidden")] * 2
    assert XIHU in refused[0]["target"]


def test_path_traversal_in_download_names_is_refused_and_logged(base, warehouse, clerk):
    release = release_dir(warehouse).name
    hostile = [
        f"/district/{SHANGCHENG}/files/{release}/..%2F..%2Fmanifest.json",
        f"/district/{SHANGCHENG}/files/{release}/..%2F{XIHU}%2F{XIHU}.xlsx",
        f"/district/{SHANGCHENG}/files/..%2F..%2Freleases/{SHANGCHENG}.xlsx",
        f"/district/{SHANGCHENG}/files/{release}/%2Fetc%2Fpasswd",
    ]
    for url in hostile:
        before = len(audit_entries(warehouse))
        response = clerk.get(url)
        assert response.status_code in (403, 404), url
        assert b"root:" not in response.content and b"release_id" not in response.content
        assert [e["outcome"] for e in entries_after(warehouse, before)] in (["not_found"], ["forbidden"]), url
    import httpx

    assert httpx.get(base + "/tables/..%2Frestricted%2Fenterprise_year/download/parquet").status_code == 404


def upload(client, code: str, name: str, content: bytes, source: str = "energy_reports", csrf: bool = True):
    token = csrf_of(client.get(f"/district/{code}").text)
    data = {"source": source, **({"csrf": token} if csrf else {})}
    return client.post(f"/district/{code}/upload", data=data, files={"file": (name, content, "application/octet-stream")})


def test_an_upload_is_stored_under_its_district_and_validated_by_ingestion(base, warehouse, landing, clerk):
    content, expected = messy_energy_csv(warehouse)
    before_tree, before = tree(landing, warehouse), len(audit_entries(warehouse))
    response = upload(clerk, SHANGCHENG, "上城区_2024年能源月报.csv", content)
    assert response.status_code == 200
    page = response.text
    assert re.search(r'id="rows-read">\s*5<', page) and re.search(r'id="rows-accepted">\s*2<', page)
    assert re.search(r'id="rows-rejected">\s*3<', page)
    assert "上城区_2024年能源月报.csv" in page
    rejected = page.split('id="upload-rejected"')[1]
    for row, reason in expected.items():
        assert re.search(rf'<td class="num">{row}</td>\s*<td>{re.escape(REASON_ZH[reason])}</td>', rejected), (row, reason)
    new = sorted(set(tree(landing, warehouse)) - set(before_tree))
    folder = landing / "energy_reports" / SHANGCHENG
    stored = [p for p in new if Path(p).parent == folder and not Path(p).name.startswith(".")]
    assert len(stored) == 1 and Path(stored[0]).read_bytes() == content
    sidecar = json.loads((folder / f".{Path(stored[0]).name}.json").read_text(encoding="utf-8"))
    assert sidecar["original_name"] == "上城区_2024年能源月报.csv" and sidecar["uploaded_by"] == "clerk102"
    assert all(Path(p).parent == folder or p.endswith("audit.jsonl") for p in new), new
    entry = entries_after(warehouse, before)[-1]
    assert (entry["action"], entry["outcome"], entry["rows_read"], entry["rejected"]) == ("upload", "stored", 5, 3)


from data_contracts.quarantine_reasons import REASON_ZH  # noqa: E402


@pytest.mark.parametrize("source, suffix", [("energy_reports", ".xlsx"), ("mu_evaluations", ".csv"), ("carbon_codes", ".xls")])
def test_the_source_is_recognised_from_the_header_when_not_chosen(base, generated, landing, clerk, source, suffix):
    from portal.i18n import STRINGS

    exports = sorted(p for p in (generated / source).iterdir()
                     if "损坏" not in p.name and "缺列" not in p.name)  # neither a broken file nor one lacking a column
    export = next((p for p in exports if p.suffix == suffix), exports[0])
    response = upload(clerk, SHANGCHENG, export.name, export.read_bytes(), source="auto")
    assert response.status_code == 200
    assert re.search(rf'id="upload-source">{STRINGS[source][0]}<', response.text)
    stored = [p for p in (landing / source / SHANGCHENG).iterdir() if p.read_bytes() == export.read_bytes()]
    assert len(stored) == 1


def test_an_upload_name_with_a_path_is_only_a_name(base, warehouse, landing, clerk):
    content, _ = messy_energy_csv(warehouse)
    before_tree = tree(landing, warehouse, landing.parent)
    response = upload(clerk, SHANGCHENG, "../../../../evil.csv", content)
    assert response.status_code == 200
    new = set(tree(landing, warehouse, landing.parent)) - set(before_tree)
    folder = landing / "energy_reports" / SHANGCHENG
    assert {Path(p).parent for p in new} <= {folder, warehouse / "portal"}
    assert not any("evil" in Path(p).name for p in new)
    assert any(json.loads(Path(p).read_text(encoding="utf-8"))["original_name"] == "../../../../evil.csv"
               for p in new if p.endswith(".json"))


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize("name, content, status, reason", [
    ("big.csv", b"a,b\n" + b"1,2\n" * (UPLOAD_MAX_MB * 1024 * 1024 // 4 + 10), 413, "err_size"),
    ("bomb.xlsx", zip_bomb(), 400, "err_zip"),
    ("fake.xlsx", "信用代码,单位名称\n1,2\n".encode(), 400, "err_type"),
    ("image.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 400, "err_type"),
    ("program.xls", b"MZ\x90\0" + b"\0" * 100, 400, "err_type"),
    ("empty.csv", b"", 400, "err_empty"),
])
def test_hostile_uploads_are_refused_logged_and_not_stored(base, warehouse, landing, clerk, name, content, status, reason):
    before_tree, before = tree(landing, warehouse), len(audit_entries(warehouse))
    response = upload(clerk, SHANGCHENG, name, content)
    assert response.status_code == status
    assert set(tree(landing, warehouse)) - set(before_tree) <= {str(warehouse / "portal" / "audit.jsonl")}
    entry = entries_after(warehouse, before)[-1]
    assert (entry["action"], entry["outcome"], entry["reason"]) == ("upload", "refused", reason)


def test_posts_without_the_csrf_token_are_refused_and_logged(base, warehouse, landing, clerk):
    import httpx

    content, _ = messy_energy_csv(warehouse)
    before_tree, before = tree(landing), len(audit_entries(warehouse))
    assert upload(clerk, SHANGCHENG, "a.csv", content, csrf=False).status_code == 403
    assert tree(landing) == before_tree
    assert clerk.post("/logout", data={}).status_code == 403
    anonymous = httpx.post(base + "/login", data={"username": "clerk102", "password": PASSWORD})
    assert anonymous.status_code == 403
    assert [e["action"] for e in entries_after(warehouse, before)] == ["csrf"] * 3
    assert clerk.get(f"/district/{SHANGCHENG}").status_code == 200  # still logged in


# --- statisticians ---------------------------------------------------------------------------------

def test_a_district_role_asking_for_restricted_tables_gets_403_and_an_audit_entry(base, warehouse, clerk):
    urls = ["/statistician", "/statistician/tables/enterprise_year",
            "/statistician/tables/enterprise_year/download/csv", "/statistician/snapshot"]
    before = len(audit_entries(warehouse))
    for url in urls:
        response = clerk.get(url)
        assert response.status_code == 403, url
        assert b"uscc" not in response.content
    refused = entries_after(warehouse, before)
    assert [(e["user"], e["outcome"]) for e in refused] == [("clerk102", "forbidden")] * len(urls)


def test_statisticians_get_restricted_tables_and_the_snapshot(base, warehouse):
    release = release_dir(warehouse)
    with closing(login(base, "stat")) as stat:
        assert "enterprise_year" in stat.get("/statistician").text
        csv = stat.get("/statistician/tables/enterprise_year/download/csv").content
        frame = pl.read_parquet(release / "restricted" / "enterprise_year.parquet")
        assert pl.read_csv(io.BytesIO(csv[3:]), schema=frame.schema).height == frame.height
        assert stat.get("/statistician/snapshot").content == (release / "hzcarbon.duckdb").read_bytes()
        assert stat.get(f"/district/{SHANGCHENG}").status_code == 403
    with closing(login(base, "admin")) as admin:
        log = admin.get("/admin/audit.jsonl")
        assert log.status_code == 200
        lines = [json.loads(line) for line in log.text.splitlines()]
        assert lines == audit_entries(warehouse)
        assert (lines[-1]["user"], lines[-1]["action"], lines[-1]["target"]) == ("admin", "download", "audit.jsonl")
        assert {"login", "download"} <= {e["action"] for e in lines}


# --- accounts -------------------------------------------------------------------------------------

def test_accounts_and_secret_live_under_the_warehouse_with_owner_only_modes(base, warehouse):
    secret = warehouse / "portal" / "session_secret"
    users = warehouse / "portal" / "users.sqlite"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and stat.S_IMODE(users.stat().st_mode) == 0o600
    assert PASSWORD.encode() not in users.read_bytes() and b"$argon2id$" in users.read_bytes()


def test_users_add_disable_reset(tmp_path):
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    env = {"HZCARBON_USER_PASSWORD": "first-password-1"}
    assert run_cli("users", "add", "ann", "--role", "district:330102", "--warehouse", str(warehouse), env=env).returncode == 0
    assert run_cli("users", "add", "bob", "--role", "district:9", "--warehouse", str(warehouse), env=env).returncode == 2
    # six digits but not a current district: the city itself, a retired district (下城区), a made-up code
    for code in ("330100", "330103", "999999"):
        refused = run_cli("users", "add", "bob", "--role", f"district:{code}", "--warehouse", str(warehouse), env=env)
        assert refused.returncode == 2 and "not a current district" in refused.stderr, refused.stderr
    assert run_cli("users", "add", "ann", "--role", "admin", "--warehouse", str(warehouse), env=env).returncode == 2
    accounts = Accounts(warehouse)
    assert accounts.authenticate("ann", "first-password-1").district == "330102"
    assert run_cli("users", "disable", "ann", "--warehouse", str(warehouse)).returncode == 0
    assert accounts.authenticate("ann", "first-password-1") is None
    done = run_cli("users", "reset", "ann", "--warehouse", str(warehouse), env={"HZCARBON_USER_PASSWORD": "second-password-2"})
    assert done.returncode == 0
    assert accounts.authenticate("ann", "first-password-1") is None
    assert accounts.authenticate("ann", "second-password-2") is not None


def test_repeated_login_failures_lock_the_account_and_the_address(warehouse, landing):
    import httpx

    with portal_server(warehouse, None) as url:
        client = httpx.Client(base_url=url)
        token = csrf_of(client.get("/login").text)
        attempt = lambda user, pw: client.post("/login", data={"csrf": token, "username": user, "password": pw})  # noqa: E731
        assert [attempt("stat", "wrong-password").status_code for _ in range(3)] == [401, 401, 401]
        locked = attempt("stat", PASSWORD)  # the right password, but too soon
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
        assert attempt("admin", PASSWORD).status_code == 429  # the same address, another account
        last = audit_entries(warehouse)[-5:]
        assert [e["outcome"] for e in last] == ["failed", "failed", "failed", "throttled", "throttled"]


def test_the_portal_works_behind_a_root_path(warehouse):
    import httpx

    with portal_server(warehouse, None, "--root-path=/carbon") as url:
        page = httpx.get(url + "/report")
        assert page.status_code == 200 and 'src="/carbon/static/vendor/echarts/echarts.min.js"' in page.text
        assert httpx.get(url + "/static/vendor/echarts/echarts.min.js").status_code == 200
        redirect = httpx.get(url + f"/district/{SHANGCHENG}")
        assert redirect.status_code == 303 and redirect.headers["location"].endswith(f"/carbon/login?next=%2Fdistrict%2F{SHANGCHENG}")
