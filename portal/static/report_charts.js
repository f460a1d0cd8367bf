// The charts of the target-progress report as ECharts options, one list for both renderers:
// the browser (report.js draws them on canvas) and the publish step (portal/chart_svg.py draws
// them as SVG with ECharts' server-side renderer in an embedded V8, no DOM). A suppressed value
// is never drawn as a number: the actual line breaks there and a hollow marker labelled
// "suppressed" sits on the path, so the reader sees that a value exists and is withheld.
(function (root) {
  "use strict";

  // Pixel sizes for the server-side renderer (the browser sizes each chart by its box).
  var SIZES = { normal: [800, 320], small: [400, 220], tall: [800, 420] };

  function reportCharts(data, L) {
    var specs = [];
    var pct = function (v) { return v == null ? L.suppressed : (v * 100).toFixed(1) + "%"; };
    var pctAxis = function (v) { return (v * 100).toFixed(0) + "%"; };
    function add(id, size, option) {
      option.animation = false;
      specs.push({ id: id, width: SIZES[size][0], height: SIZES[size][1], option: option });
    }

    function progressChart(id, scope, indicator, size) {
      var years = scope.years.map(String);
      var marks = [];
      scope.years.forEach(function (y, i) {
        if (scope.suppressed[i]) { marks.push([String(y), scope.path[i]]); }
      });
      var status = scope.status[scope.status.length - 1];
      add(id, size, {
        title: { text: scope.scope_name + " · " + L[indicator], subtext: status ? L[status] : (scope.suppressed[scope.suppressed.length - 1] ? L.suppressed : ""), left: "center", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis", valueFormatter: pct },
        legend: { bottom: 0, data: [L.actual_change, L.path_change].concat(marks.length ? [L.suppressed] : []) },
        grid: { left: 50, right: 16, top: 64, bottom: 40 },
        xAxis: { type: "category", data: years },
        yAxis: { type: "value", axisLabel: { formatter: pctAxis } },
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
        var city = scope.scope_code === "330100";
        progressChart(city ? "chart-city-" + indicator : "chart-" + scope.scope_code + "-" + indicator,
                      scope, indicator, city ? "normal" : "small");
      });
    });

    var kg = data.key_groups;
    add("chart-key-groups", "normal", {
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 60, right: 16, top: 30, bottom: 40 },
      xAxis: { type: "category", data: kg.years.map(String), name: L.year },
      yAxis: { type: "value", name: L.intensity_unit },
      series: kg.groups.map(function (g) {
        return { name: g.name, type: "line", connectNulls: false, data: g.values };
      })
    });

    var h = data.hcle;
    add("chart-hcle", "normal", {
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, type: "scroll" },
      grid: { left: 50, right: 40, top: 30, bottom: 50 },
      xAxis: { type: "category", data: h.years.map(String), name: L.year },
      yAxis: { type: "value", name: L.enterprises, minInterval: 1 },
      series: h.series.map(function (s) { return { name: s.name, type: "bar", stack: "all", data: s.values }; })
    });

    function distribution(id, d, categoryLabel) {
      var shown = d.points.filter(function (p) { return !p.suppressed; }).map(function (p) { return [p.category, p.district, p.value]; });
      var hidden = d.points.filter(function (p) { return p.suppressed; }).map(function (p) { return [p.category, p.district, 0]; });
      var max = Math.max.apply(null, [1].concat(shown.map(function (p) { return p[2]; })));
      add(id, "tall", {
        tooltip: { formatter: function (p) { return d.districts[p.value[1]] + " · " + d.categories[p.value[0]] + ": " + (p.seriesIndex === 1 ? L.suppressed : p.value[2]); } },
        grid: { left: 80, right: 100, top: 40, bottom: 50 },
        xAxis: { type: "category", data: d.categories, name: categoryLabel, nameLocation: "middle", nameGap: 28 },
        yAxis: { type: "category", data: d.districts, name: L.district, nameLocation: "end" },
        visualMap: { min: 0, max: max, seriesIndex: 0, orient: "vertical", right: 0, top: "center", calculable: true,
                     text: [L.enterprises, ""] },
        series: [
          { name: L.enterprises, type: "heatmap", data: shown, label: { show: true } },
          { name: L.suppressed, type: "heatmap", data: hidden, itemStyle: { color: "#d9d9d9" },
            label: { show: true, formatter: L.suppressed, color: "#555" } }
        ]
      });
    }

    var cm = data.monthly.city_month;
    if (cm) {
      add("chart-city-month", "normal", {
        tooltip: { trigger: "axis", valueFormatter: pct },
        legend: { bottom: 0 },
        grid: { left: 50, right: 16, top: 30, bottom: 40 },
        xAxis: { type: "category", data: cm.months.map(function (m) { return "1–" + m + "月"; }) },
        yAxis: { type: "value", axisLabel: { formatter: pctAxis } },
        series: Object.keys(cm.series).map(function (k) {
          return { name: L[k] || k, type: "line", data: cm.series[k], connectNulls: false };
        })
      });
    }
    // The latest 1–N月 early warning: each scope's intensity 同比 (bars) against the change required
    // this year (markers); a district behind has its name in red.
    var ew = data.monthly.early_warning && data.monthly.early_warning.chart;
    if (ew) {
      add("chart-early-warning", "normal", {
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; } },
        legend: { bottom: 0 },
        grid: { left: 50, right: 16, top: 30, bottom: 60 },
        xAxis: { type: "category", data: ew.scopes,
                 axisLabel: { interval: 0, rotate: 30, color: function (v, i) { return ew.behind[i] ? "#c00000" : "#333"; } } },
        yAxis: { type: "value", axisLabel: { formatter: pctAxis } },
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
    distribution("chart-carbon-grades", data.carbon_grades, L.carbon_grade);
    distribution("chart-mu-classes", data.mu_classes, L.mu_class);

    var g = data.green;
    if (g) {
      var targetLine = function (value) {
        return value == null ? undefined : { symbol: "none", lineStyle: { type: "dashed", color: "#c23531" },
          label: { position: "insideEndTop", formatter: L.target + " " + value }, data: [{ yAxis: value }] };
      };
      // green factories or parks by year as bars against the plan's target line
      var countsAgainstTarget = function (id, label, counts, target) {
        add(id, "normal", {
          tooltip: { trigger: "axis" },
          legend: { bottom: 0 },
          grid: { left: 50, right: 40, top: 30, bottom: 40 },
          xAxis: { type: "category", data: g.years.map(String), name: L.year },
          yAxis: { type: "value", name: label, minInterval: 1,
                   max: function (v) { return Math.max(v.max, target || 0); } },
          series: [{ name: label, type: "bar", data: counts, markLine: targetLine(target) }]
        });
      };
      countsAgainstTarget("chart-green-factories", L.green_factories, g.factories, g.factory_target);
      countsAgainstTarget("chart-green-parks", L.green_parks, g.parks, g.park_target);
    }
    return specs;
  }

  root.hzcarbonReportCharts = reportCharts;
})(typeof window !== "undefined" ? window : globalThis);
