// Charts of the target-progress report (ECharts, vendored). A suppressed value is never drawn
// as a number: the actual line breaks there and a hollow marker labelled "suppressed" sits on
// the path, so the reader sees that a value exists and is withheld.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var L = JSON.parse(document.getElementById("report-labels").textContent);
  var pct = function (v) { return v == null ? L.suppressed : (v * 100).toFixed(1) + "%"; };
  window.hzcarbonCharts = [];

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    option.animation = false;
    // Each chart saves itself as a PNG (for reports and slides), drawn at twice the screen size.
    option.toolbox = { right: 4, top: 0, feature: { saveAsImage: { title: L.save_png, pixelRatio: 2, name: id.replace(/^chart-/, "hzcarbon_" + data.release_id + "_") } } };
    c.setOption(option);
    window.hzcarbonCharts.push(c);
  }

  function progressChart(id, scope, indicator) {
    var years = scope.years.map(String);
    var marks = [];
    scope.years.forEach(function (y, i) {
      if (scope.suppressed[i]) { marks.push([String(y), scope.path[i]]); }
    });
    var status = scope.status[scope.status.length - 1];
    chart(id, {
      title: { text: scope.scope_name + " · " + L[indicator], subtext: status ? L[status] : (scope.suppressed[scope.suppressed.length - 1] ? L.suppressed : ""), left: "center", textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", valueFormatter: pct },
      legend: { bottom: 0, data: [L.actual_change, L.path_change].concat(marks.length ? [L.suppressed] : []) },
      grid: { left: 50, right: 16, top: 64, bottom: 40 },
      xAxis: { type: "category", data: years },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v * 100).toFixed(0) + "%"; } } },
      series: [
        { name: L.actual_change, type: "line", data: scope.actual, connectNulls: false, symbolSize: 7 },
        { name: L.path_change, type: "line", data: scope.path, lineStyle: { type: "dashed" }, symbol: "none" },
        { name: L.suppressed, type: "scatter", data: marks, symbol: "emptyCircle", symbolSize: 11,
          itemStyle: { color: "#888" }, label: { show: true, position: "top", formatter: L.suppressed, fontSize: 10 },
          tooltip: { valueFormatter: function () { return L.suppressed; } } }
      ]
    });
  }

  ["energy_intensity", "co2_intensity"].forEach(function (indicator) {
    data.progress[indicator].forEach(function (scope) {
      var id = scope.scope_code === "330100" ? "chart-city-" + indicator : "chart-" + scope.scope_code + "-" + indicator;
      progressChart(id, scope, indicator);
    });
  });

  var kg = data.key_groups;
  chart("chart-key-groups", {
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 60, right: 16, top: 20, bottom: 40 },
    xAxis: { type: "category", data: kg.years.map(String) },
    yAxis: { type: "value", name: "tce / 10k yuan" },
    series: kg.groups.map(function (g) {
      return { name: g.name, type: "line", connectNulls: false, data: g.values };
    })
  });

  var h = data.hcle;
  chart("chart-hcle", {
    tooltip: { trigger: "axis" },
    legend: { bottom: 0, type: "scroll" },
    grid: { left: 50, right: 16, top: 20, bottom: 50 },
    xAxis: { type: "category", data: h.years.map(String) },
    yAxis: { type: "value", name: L.enterprises, minInterval: 1 },
    series: h.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.values }; })
  });

  function distribution(id, d) {
    var shown = d.points.filter(function (p) { return !p.suppressed; }).map(function (p) { return [p.category, p.district, p.value]; });
    var hidden = d.points.filter(function (p) { return p.suppressed; }).map(function (p) { return [p.category, p.district, 0]; });
    var max = Math.max.apply(null, [1].concat(shown.map(function (p) { return p[2]; })));
    chart(id, {
      tooltip: { formatter: function (p) { return d.districts[p.value[1]] + " · " + d.categories[p.value[0]] + ": " + (p.seriesIndex === 1 ? L.suppressed : p.value[2]); } },
      grid: { left: 70, right: 90, top: 10, bottom: 30 },
      xAxis: { type: "category", data: d.categories },
      yAxis: { type: "category", data: d.districts },
      visualMap: { min: 0, max: max, seriesIndex: 0, orient: "vertical", right: 0, top: "center", calculable: true },
      series: [
        { name: L.enterprises, type: "heatmap", data: shown, label: { show: true } },
        { name: L.suppressed, type: "heatmap", data: hidden, itemStyle: { color: "#d9d9d9" },
          label: { show: true, formatter: L.suppressed, color: "#555" } }
      ]
    });
  }
  var cm = data.monthly.city_month;
  if (cm) {
    chart("chart-city-month", {
      tooltip: { trigger: "axis", valueFormatter: pct },
      legend: { bottom: 0 },
      grid: { left: 50, right: 16, top: 30, bottom: 40 },
      xAxis: { type: "category", data: cm.months.map(function (m) { return "1–" + m + "月"; }) },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v * 100).toFixed(0) + "%"; } } },
      series: Object.keys(cm.series).map(function (k) {
        return { name: L[k] || k, type: "line", data: cm.series[k], connectNulls: false };
      })
    });
  }
  // The latest 1–N月 early warning: each scope's intensity 同比 (bars) against the change required
  // this year (markers); a district behind has its name in red.
  var ew = data.monthly.early_warning && data.monthly.early_warning.chart;
  if (ew) {
    var share = function (v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; };
    chart("chart-early-warning", {
      tooltip: { trigger: "axis", valueFormatter: share },
      legend: { bottom: 0 },
      grid: { left: 50, right: 16, top: 30, bottom: 60 },
      xAxis: { type: "category", data: ew.scopes,
               axisLabel: { interval: 0, rotate: 30, color: function (v, i) { return ew.behind[i] ? "#c00000" : "#333"; } } },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v * 100).toFixed(0) + "%"; } } },
      series: [
        { name: L.energy_intensity + " " + L.yoy, type: "bar", data: ew.energy_intensity_yoy, itemStyle: { color: "#1F4E79" } },
        { name: L.co2_intensity + " " + L.yoy, type: "bar", data: ew.co2_intensity_yoy, itemStyle: { color: "#C55A11" } },
        { name: L.energy_intensity + " " + L.required_change, type: "scatter", data: ew.energy_required_change,
          symbol: "rect", symbolSize: [18, 3], itemStyle: { color: "#0b2a45" } },
        { name: L.co2_intensity + " " + L.required_change, type: "scatter", data: ew.co2_required_change,
          symbol: "rect", symbolSize: [18, 3], itemStyle: { color: "#7a3507" } }
      ]
    });
  }
  distribution("chart-carbon-grades", data.carbon_grades);
  distribution("chart-mu-classes", data.mu_classes);
  window.addEventListener("resize", function () { window.hzcarbonCharts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute("data-charts-ready", String(window.hzcarbonCharts.length));
})();
