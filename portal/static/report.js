// Draws the report's charts (their options come from report_charts.js, shared with the SVG
// export of the publish step) on canvas, each with a "save as PNG" button.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var L = JSON.parse(document.getElementById("report-labels").textContent);
  window.hzcarbonCharts = [];
  window.hzcarbonReportCharts(data, L).forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el) { return; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    // Saved at twice the screen size, for reports and slides.
    spec.option.toolbox = { right: 4, top: 0, feature: { saveAsImage: { title: L.save_png, pixelRatio: 2,
      name: spec.id.replace(/^chart-/, "hzcarbon_" + data.release_id + "_") } } };
    c.setOption(spec.option);
    window.hzcarbonCharts.push(c);
  });
  window.addEventListener("resize", function () { window.hzcarbonCharts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute("data-charts-ready", String(window.hzcarbonCharts.length));
})();
