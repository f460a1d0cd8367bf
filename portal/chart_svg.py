"""The report's charts as SVG files, for reports and slides, drawn by ECharts' own server-side
renderer (`renderer: 'svg', ssr: true`) in V8 embedded through mini-racer: no browser, no node,
no DOM. The options are the page's own (static/report_charts.js), so a file shows what the page
shows, without the interactive parts (tooltips, the save button).

The bytes depend only on the release's data: ECharts draws without animation and measures text
by its own rules when there is no canvas, and each call starts a fresh V8 context, since zrender
numbers its instances (class names) from the start of a context."""

import json
from pathlib import Path

from portal.releases import Release
from portal.report import report_data, report_labels

STATIC = Path(__file__).parent / "static"
SCRIPTS = (STATIC / "vendor" / "echarts" / "echarts.min.js", STATIC / "report_charts.js")
CHARTS_DIR = "charts"

_RENDER = """(function (data, L) {
  return JSON.stringify(hzcarbonReportCharts(data, L).map(function (spec) {
    var chart = echarts.init(null, null, {renderer: "svg", ssr: true, width: spec.width, height: spec.height});
    delete spec.option.tooltip;
    spec.option.backgroundColor = "#ffffff";
    chart.setOption(spec.option);
    var svg = chart.renderToSVGString();
    chart.dispose();
    return [spec.id, svg];
  }));
})(%s, %s)"""


def render_svgs(data: dict, labels: dict[str, str]) -> dict[str, str]:
    """{chart id: SVG text} of every chart of the report whose figures are ``data``."""
    from py_mini_racer import MiniRacer

    with MiniRacer() as ctx:
        for script in SCRIPTS:
            ctx.eval(script.read_text(encoding="utf-8"))
        # JSON is a JavaScript expression; NaN and Infinity stay the numbers they are.
        result = ctx.eval(_RENDER % (json.dumps(data, ensure_ascii=False), json.dumps(labels, ensure_ascii=False)))
    return {chart_id: svg for chart_id, svg in json.loads(result)}


def chart_file_name(chart_id: str) -> str:
    return f"{chart_id.removeprefix('chart-')}.svg"


def write_report_svgs(release: Release, out_dir: Path, lang: str = "zh") -> list[Path]:
    """Write `<chart>.svg` for every chart of the release's report into out_dir (made if needed)."""
    from portal.i18n import translator

    svgs = render_svgs(report_data(release), report_labels(translator(lang)))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart_id in sorted(svgs):
        target = out_dir / chart_file_name(chart_id)
        target.write_text(svgs[chart_id] + "\n", encoding="utf-8", newline="\n")
        written.append(target)
    return written


def write_release_charts(release_dir: Path, release_id: str, manifest: dict) -> list[str]:
    """The publish step's call (warehouse.release.publish): the charts of a release being built,
    before its files are hashed into the manifest; returns their paths inside the release."""
    release_dir = Path(release_dir)
    files = write_report_svgs(Release(release_id, release_dir, manifest), release_dir / CHARTS_DIR)
    return [f.relative_to(release_dir).as_posix() for f in files]
