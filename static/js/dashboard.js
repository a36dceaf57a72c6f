// The heads' dashboard (payments/views/reports.py): every chart's data comes from one json_script
// element, so no inline script is needed (Content-Security-Policy: script-src 'self'). The numbers
// of each chart are also in the tables below it.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var charts = JSON.parse(source.textContent);
  // Kazakh writes numbers as Russian does (config/formats/kk); see account-chart.js.
  var lang = document.documentElement.lang || "kk";
  var locales = lang === "en" ? ["en"] : ["ru-RU"];
  var money = new Intl.NumberFormat(locales, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var whole = new Intl.NumberFormat(locales, { maximumFractionDigits: 0 });
  var colours = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d"];
  document.querySelectorAll("canvas.dashboard-chart").forEach(function (canvas) {
    var data = charts[canvas.dataset.chart];
    if (!data) { return; }
    var type = canvas.dataset.type || "bar";
    var stacked = canvas.dataset.stacked === "1";
    var isMoney = canvas.dataset.money === "1";
    var datasets = data.datasets.map(function (set, index) {
      var colour = type === "doughnut" ? ["#198754", "#dc3545"] : colours[index % colours.length];
      return { label: set.label, data: set.data.map(Number), backgroundColor: colour, maxBarThickness: 40 };
    });
    var format = isMoney ? money : whole;
    var options = { animation: false, maintainAspectRatio: false, plugins: { legend: { display: datasets.length > 1 || type === "doughnut" },
      tooltip: { callbacks: { label: function (item) { var v = type === "doughnut" ? item.parsed : (canvas.dataset.horizontal === "1" ? item.parsed.x : item.parsed.y); return item.dataset.label + ": " + format.format(v); } } } } };
    if (type !== "doughnut") {
      // Counts step by whole numbers (an axis of 0-1 orders would read "0 0 0 1 1 1" otherwise).
      var ticks = { callback: function (value) { return whole.format(value); } };
      if (!isMoney) { ticks.precision = 0; }
      var valueAxis = { beginAtZero: true, stacked: stacked, ticks: ticks };
      options.scales = canvas.dataset.horizontal === "1" ? { x: valueAxis, y: { stacked: stacked } } : { x: { stacked: stacked }, y: valueAxis };
      if (canvas.dataset.horizontal === "1") { options.indexAxis = "y"; }
    }
    new Chart(canvas, { type: type, data: { labels: data.labels, datasets: datasets }, options: options });
  });
});
