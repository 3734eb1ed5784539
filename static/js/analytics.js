// Draws the Analytics charts from the json_script block "analytics-data", and draws them
// again whenever htmx swaps the polled figures in (the canvases come with the new HTML).
(function () {
  "use strict";
  // Every outcome its own colour (Okabe-Ito and Tableau hues, told apart with colour-blind
  // vision too) and its own fill pattern, so colour is never the only cue; the legend and
  // the tables name each one.
  const OUTCOME_STYLES = {
    answered: ["#1a7f37", "solid"], delivered: ["#0072b2", "solid"],
    sent: ["#56b4e9", "dots"], voicemail: ["#e69f00", "diagonal"],
    no_answer: ["#8c959f", "horizontal"], busy: ["#d55e00", "cross"],
    undelivered: ["#cc79a7", "diagonal-back"], bounced: ["#a05a2c", "vertical"],
    failed: ["#b42318", "grid"], skipped: ["#c9ced6", "dots-sparse"],
    interrupted: ["#6e5494", "zigzag"],
  };
  const LINE_DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4], [1, 4]];

  function pattern(colour, shape) {
    if (shape === "solid") return colour;
    const size = 10;
    const tile = document.createElement("canvas");
    tile.width = tile.height = size;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = ctx.fillStyle = "rgba(255, 255, 255, 0.75)";
    ctx.lineWidth = 2;
    const line = (x1, y1, x2, y2) => { ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke(); };
    const dot = (x, y, r) => { ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); };
    if (shape === "dots") { dot(2.5, 2.5, 1.5); dot(7.5, 7.5, 1.5); }
    if (shape === "dots-sparse") dot(5, 5, 1.5);
    if (shape === "diagonal") { line(0, size, size, 0); line(-2, 2, 2, -2); line(size - 2, size + 2, size + 2, size - 2); }
    if (shape === "diagonal-back") { line(0, 0, size, size); line(-2, size - 2, 2, size + 2); line(size - 2, -2, size + 2, 2); }
    if (shape === "horizontal") line(0, size / 2, size, size / 2);
    if (shape === "vertical") line(size / 2, 0, size / 2, size);
    if (shape === "cross") { line(0, 0, size, size); line(0, size, size, 0); }
    if (shape === "grid") { line(0, size / 2, size, size / 2); line(size / 2, 0, size / 2, size); }
    if (shape === "zigzag") { ctx.beginPath(); ctx.moveTo(0, 7); ctx.lineTo(2.5, 3); ctx.lineTo(5, 7); ctx.lineTo(7.5, 3); ctx.lineTo(10, 7); ctx.stroke(); }
    return ctx.createPattern(tile, "repeat");
  }

  function outcomeFill(key) {
    const [colour, shape] = OUTCOME_STYLES[key] || ["#57606a", "grid"];
    return { backgroundColor: pattern(colour, shape), borderColor: colour, borderWidth: 1 };
  }

  const charts = [];

  function progressChart(canvas, data) {
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.progress.map((set, index) => ({
          label: set.label, data: set.data, tension: 0.2, borderWidth: 2,
          pointRadius: data.labels.length > 60 ? 0 : 2,
          // One line per channel: a dash pattern as well as Chart.js's colour.
          borderDash: LINE_DASHES[index % LINE_DASHES.length],
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
          label: set.label, data: set.data, ...outcomeFill(set.key),
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
