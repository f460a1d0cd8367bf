"""Every chart of a release's target-progress report as a PNG file, for reports and slides: the
portal is started in this process on a free port, Debian's chromium (driven by playwright)
renders the report page, and each ECharts instance hands over its own image (getDataURL)."""

import base64
import socket
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def export_chart_pngs(warehouse: Path, out_dir: Path, release_id: str | None = None, lang: str = "zh") -> list[Path]:
    """Write `<chart id>.png` for every chart of the report into out_dir; returns the files."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    from portal.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Path(warehouse)), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the portal did not start")
            time.sleep(0.05)
        query = f"?lang={lang}" + (f"&release={release_id}" if release_id else "")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            response = page.goto(f"http://127.0.0.1:{port}/report{query}")
            if response is None or response.status != 200:
                raise RuntimeError(f"no report for release {release_id or 'latest'}")
            page.wait_for_selector("body[data-charts-ready]")
            images = page.evaluate("""() => window.hzcarbonCharts.map(c => [c.getDom().id,
                c.getDataURL({type: 'png', pixelRatio: 2, backgroundColor: '#fff', excludeComponents: ['toolbox']})])""")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart_id, url in images:
        target = out_dir / f"{chart_id.removeprefix('chart-')}.png"
        target.write_bytes(base64.b64decode(url.split(",", 1)[1]))
        written.append(target)
    return written
