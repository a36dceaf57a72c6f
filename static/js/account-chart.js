// Monthly contributions chart on the participant page. Data comes from a json_script element,
// so no inline script is needed (Content-Security-Policy: script-src 'self').
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("account-chart-data");
  var canvas = document.getElementById("account-chart");
  if (!data || !canvas || typeof Chart === "undefined") { return; }
  var series = JSON.parse(data.textContent);
  // Amounts in the page's language (kk/ru: "2 450,00"), as in the table below the chart. Kazakh
  // writes numbers as Russian does (config/formats/kk). Browsers' own Kazakh number data is not
  // to be trusted: Chromium claims "kk" and writes "35,000", so Kazakh pages use Russian rules.
  var lang = document.documentElement.lang || "kk";
  var locales = lang === "en" ? ["en"] : ["ru-RU"];
  var money = new Intl.NumberFormat(locales, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var whole = new Intl.NumberFormat(locales, { maximumFractionDigits: 0 });
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [{ label: canvas.dataset.label, data: series.values.map(Number), backgroundColor: "#0d6efd",
                   maxBarThickness: 48 }]
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { callback: function (value) { return whole.format(value); } } } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: function (item) { return canvas.dataset.label + ": " + money.format(item.parsed.y); } } }
      }
    }
  });
});
