// Draws the Analytics charts from the json_script block "analytics-data", and draws them
// again whenever htmx swaps the polled figures in (the canvases come with the new HTML).
(function () {
  "use strict";
  const OUTCOME_COLOURS = {
    answered: "#1a7f37", delivered: "#1a7f37", sent: "#6cc287", voicemail: "#d4a72c",
    no_answer: "#8c959f", busy: "#e16f24", undelivered: "#e16f24", bounced: "#e16f24",
    failed: "#b42318", skipped: "#c9ced6", interrupted: "#6e5494",
  };
  const charts = [];

  function progressChart(canvas, data) {
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.progress.map((set) => ({
          label: set.label, data: set.data, tension: 0.2, borderWidth: 2,
          pointRadius: data.labels.length > 60 ? 0 : 2,
        })),
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, title: { display: true, text: "deliveries (cumulative)" } } },
      },
    });
  }

  function mixChart(canvas, data) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.mix.channels,
        datasets: data.mix.outcomes.map((set) => ({
          label: set.label, data: set.data, backgroundColor: OUTCOME_COLOURS[set.key],
        })),
      },
      options: {
        indexAxis: "y", animation: false, responsive: true, maintainAspectRatio: false,
        scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: "deliveries" } }, y: { stacked: true } },
      },
    });
  }

  function draw() {
    const source = document.getElementById("analytics-data");
    if (!source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    charts.splice(0).forEach((chart) => chart.destroy());
    const progress = document.getElementById("progress-chart");
    const mix = document.getElementById("mix-chart");
    if (progress) charts.push(progressChart(progress, data));
    if (mix) charts.push(mixChart(mix, data));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
  document.addEventListener("htmx:afterSettle", draw);
})();
