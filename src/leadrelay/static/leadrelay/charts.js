// The pulse's charts, drawn with the vendored Chart.js from the specs the
// server wrote into the page (leadrelay.pulse.charts.chart_specs). The same
// specs become the email digest's PNGs, so this file only draws: it decides
// nothing about the figures. Without JavaScript the tables beside each chart
// give the same numbers.
(function () {
  "use strict";

  var INK = "#1d2430";
  var MUTED = "#5d6776";
  var GRID = "#e6e9ee";

  // Write each bar's (or stack's) value label at its end, as the PNG does.
  var valueLabels = {
    id: "leadrelayValueLabels",
    afterDatasetsDraw: function (chart, args, options) {
      var spec = options.spec;
      if (!spec || !spec.value_labels) {
        return;
      }
      var ctx = chart.ctx;
      var horizontal = spec.kind === "hbar";
      var bars = chart.getDatasetMeta(0).data;
      var scale = horizontal ? chart.scales.x : chart.scales.y;
      ctx.save();
      ctx.font = "600 12px system-ui, sans-serif";
      ctx.fillStyle = horizontal ? INK : MUTED;
      ctx.textAlign = horizontal ? "left" : "center";
      ctx.textBaseline = horizontal ? "middle" : "bottom";
      spec.value_labels.forEach(function (text, i) {
        var bar = bars[i];
        if (!bar) {
          return;
        }
        if (horizontal) {
          var end = scale.getPixelForValue(spec.series[0].values[i]);
          ctx.fillText(text, end + 4, bar.y);
        } else {
          var total = spec.series.reduce(function (sum, s) {
            return sum + s.values[i];
          }, 0);
          ctx.fillText(text, bar.x, scale.getPixelForValue(total) - 2);
        }
      });
      ctx.restore();
    }
  };

  function largest(spec) {
    var top = 0;
    spec.labels.forEach(function (label, i) {
      var sum = 0;
      spec.series.forEach(function (s) {
        sum += s.values[i];
      });
      top = Math.max(top, sum);
    });
    return top;
  }

  function config(spec) {
    var horizontal = spec.kind === "hbar";
    var datasets = spec.series.map(function (s) {
      return {
        label: s.name,
        data: s.values,
        backgroundColor: s.colors || s.color,
        borderWidth: 0,
        borderRadius: 3,
        maxBarThickness: horizontal ? 26 : 48
      };
    });
    // Room for the value labels past the longest bar.
    var top = Math.max(1, largest(spec)) * (horizontal ? 1.35 : 1.15);
    var valueAxis = {
      stacked: !horizontal,
      beginAtZero: true,
      suggestedMax: top,
      ticks: { precision: 0, color: MUTED },
      grid: { color: GRID },
      title: { display: !horizontal, text: spec.axis, color: MUTED }
    };
    var categoryAxis = {
      stacked: !horizontal,
      ticks: { color: INK },
      grid: { display: false }
    };
    return {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: horizontal ? 0 : 16, right: 8 } },
        scales: horizontal
          ? { x: valueAxis, y: categoryAxis }
          : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: {
            display: spec.series.length > 1,
            position: "bottom",
            labels: { boxWidth: 12, color: INK }
          },
          tooltip: {
            callbacks: spec.weeks
              ? {
                  title: function (items) {
                    return spec.weeks[items[0].dataIndex];
                  }
                }
              : {}
          },
          leadrelayValueLabels: { spec: spec }
        }
      },
      plugins: [valueLabels]
    };
  }

  function draw() {
    var data = document.getElementById("chart-specs");
    if (!data || typeof window.Chart === "undefined") {
      return;
    }
    var specs = JSON.parse(data.textContent);
    specs.forEach(function (spec) {
      var canvases = document.querySelectorAll('canvas[data-chart="' + spec.id + '"]');
      Array.prototype.forEach.call(canvases, function (canvas) {
        if (spec.empty) {
          return;
        }
        new window.Chart(canvas, config(spec));
        canvas.closest(".chart-box").classList.add("drawn");
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
