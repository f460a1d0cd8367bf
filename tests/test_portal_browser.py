"""The portal in a real browser: Debian's chromium (/usr/bin/chromium, `make browser` installs
it) driven by playwright, against a real `hzcarbon serve` over one pipeline-built release."""

import io
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data_contracts.quarantine_reasons import REASON_ZH
from tests.portal_support import base, built, landing, warehouse  # noqa: F401  (fixtures)
from tests.portal_support import (
    PASSWORD, SHANGCHENG, XIHU, audit_entries, workbook_of, messy_energy_csv, portal_server,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make browser`"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-submit")


def test_a_shangcheng_clerk_downloads_uploads_and_cannot_reach_xihu(page, base, warehouse, tmp_path):
    release = (warehouse / "latest").resolve()
    log_in(page, base, "clerk102", PASSWORD)
    page.wait_for_url(f"**/district/{SHANGCHENG}")
    # The workbook of its own district, byte for byte the published one.
    mine, theirs = workbook_of(release, SHANGCHENG), workbook_of(release, XIHU)
    with page.expect_download() as download:
        page.click(f'a[href*="/{release.name}/{SHANGCHENG}_"][href$=".xlsx"]')
    saved = tmp_path / "workbook.xlsx"
    download.value.save_as(saved)
    assert saved.read_bytes() == (release / "districts" / SHANGCHENG / mine).read_bytes()
    # A messy export: the rejected rows come back at once with their row numbers and reasons in Chinese.
    content, expected = messy_energy_csv(warehouse)
    page.select_option("select[name=source]", "energy_reports")
    page.set_input_files("input[type=file]", files=[{"name": "上城区能源月报.csv", "mimeType": "text/csv", "buffer": content}])
    page.click("#upload-submit")
    page.wait_for_selector("#upload-counts")
    assert (page.inner_text("#rows-read"), page.inner_text("#rows-accepted"), page.inner_text("#rows-rejected")) == ("5", "2", "3")
    rows = [[cell.inner_text() for cell in row.query_selector_all("td")]
            for row in page.query_selector_all("#upload-rejected tr") if row.query_selector("td")]
    assert {int(r[1]): r[2] for r in rows} == {n: REASON_ZH[reason] for n, reason in expected.items()}
    assert "上城区能源月报.csv" in page.inner_text("h1")
    # Changing the URL to 西湖区's workbook: 403, and the audit log says who tried.
    before = len(audit_entries(warehouse))
    response = page.goto(f"{base}/district/{XIHU}/files/{release.name}/{theirs}")
    assert response.status == 403
    assert "无权访问" in page.inner_text("h1")
    entry = audit_entries(warehouse)[before]
    assert (entry["user"], entry["outcome"], entry["target"]) == (
        "clerk102", "forbidden", f"district/{XIHU}/{release.name}/{theirs}")


def test_a_wrong_password_is_refused_and_repeated_failures_are_slowed(browser, warehouse):
    with portal_server(warehouse, None) as url:  # its own server: the lock would hold other tests' logins
        context = browser.new_context()
        page = context.new_page()
        for _ in range(3):
            log_in(page, url, "clerk106", "not-the-password")
            assert page.inner_text("#login-error") == "用户名或密码错误"
        log_in(page, url, "clerk106", PASSWORD)  # right, but too soon after three failures
        assert "登录失败次数过多" in page.inner_text("#login-error")
        assert "/login" in page.url
        context.close()


def test_the_public_report_renders_its_charts(page, base, warehouse, tmp_path):
    page.goto(base + "/report")
    page.wait_for_selector("body[data-charts-ready]")
    charts = int(page.get_attribute("body", "data-charts-ready"))
    districts = pl.read_parquet(warehouse / "latest" / "open" / "target_progress.parquet").filter(
        pl.col("scope_code") != "330100")["scope_code"].n_unique()
    # city x2, each district x2, key groups, 高耗低效, grades, classes, the city's 1–N月 同比 (the
    # release has city_month), the 1–N月 early warning (intensity_monthly with value-added growth),
    # green factories and parks (it has green_manufacturing_progress)
    assert charts == 2 + 2 * districts + 4 + 2 + 2
    # Every chart's canvas has drawn pixels (not a blank box).
    painted = page.evaluate("""() => Array.from(document.querySelectorAll('.chart')).map(chart => {
        const c = chart.querySelector('canvas'); if (!c) { return 0; }
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; })""")
    assert len(painted) == charts and min(painted) > 2000, painted
    text = page.inner_text("main")
    for label in ("目标进度", "杭州市", "上城区", "建材", "化工", "纺织化纤", "高耗低效", "碳效码", "亩均", "已抑制",
                  "绿色工厂", "绿色园区", "超限额"):
        assert label in text, label
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_a_csv_download_matches_the_parquet_row_for_row(page, base, warehouse, tmp_path):
    page.goto(base + "/tables/district_industry_year")
    with page.expect_download() as download:
        page.click('a[href*="/tables/district_industry_year/download/csv"]')
    saved = tmp_path / "table.csv"
    download.value.save_as(saved)
    frame = pl.read_parquet(warehouse / "latest" / "open" / "district_industry_year.parquet")
    data = saved.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert_frame_equal(pl.read_csv(io.BytesIO(data[3:]), schema=frame.schema), frame)


def test_report_charts_are_exported_as_png_files(warehouse, tmp_path):
    from tests.conftest import run_cli

    done = run_cli("report-charts", "--warehouse", str(warehouse), "--out", str(tmp_path / "charts"))
    assert done.returncode == 0, done.stderr
    districts = pl.read_parquet(warehouse / "latest" / "open" / "target_progress.parquet").filter(
        pl.col("scope_code") != "330100")["scope_code"].n_unique()
    files = sorted((tmp_path / "charts").iterdir())
    # + 1–N月 同比 (city_month), the early warning (intensity_monthly), green factories and parks
    assert len(files) == 2 + 2 * districts + 4 + 2 + 2
    assert {"city-energy_intensity.png", "city-co2_intensity.png", "key-groups.png", "hcle.png",
            "city-month.png", "early-warning.png"} <= {f.name for f in files}
    for f in files:
        data = f.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000, f.name
