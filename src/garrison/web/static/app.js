// Garrison's only script: CSRF header for HTMX requests and charts drawn from data attributes
// (no inline scripts, so the Content-Security-Policy can forbid them).
"use strict";

document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = document.body.dataset.csrf || "";
});

const PALETTE = ["#2f6f9f", "#e0a030", "#3f9f6f", "#c0504d", "#7f5fa0", "#9a9a9a", "#4bacc6"];

function drawCharts(root) {
  if (typeof Chart === "undefined") return;
  root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    if (canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    const kind = canvas.dataset.chart;
    const values = JSON.parse(canvas.dataset.values || "[]");
    new Chart(canvas, {
      type: kind,
      data: {
        labels: JSON.parse(canvas.dataset.labels || "[]"),
        datasets: [{
          label: JSON.parse(canvas.dataset.label || '""'),
          data: values,
          backgroundColor: canvas.dataset.colors
            ? JSON.parse(canvas.dataset.colors)
            : kind === "bar" ? PALETTE[0] : PALETTE.slice(0, values.length),
          borderColor: canvas.dataset.colors ? "#1d2733" : undefined,
          borderWidth: canvas.dataset.colors ? 1 : undefined,
        }],
      },
      options: {
        responsive: true,
        animation: false,
        plugins: { legend: { display: kind !== "bar", position: "right" } },
      },
    });
  });
}

document.addEventListener("DOMContentLoaded", () => drawCharts(document));
document.addEventListener("htmx:afterSwap", (event) => drawCharts(event.target));
