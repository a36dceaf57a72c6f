// Monthly contributions chart on the participant page. Data comes from a json_script element,
// so no inline script is needed (Content-Security-Policy: script-src 'self').
document.addEventListener("DOMContentLoaded", function () {
  var data = document.getElementById("account-chart-data");
  var canvas = document.getElementById("account-chart");
  if (!data || !canvas || typeof Chart === "undefined") { return; }
  var series = JSON.parse(data.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [{ label: canvas.dataset.label, data: series.values.map(Number), backgroundColor: "#0d6efd" }]
    },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } }
  });
});
