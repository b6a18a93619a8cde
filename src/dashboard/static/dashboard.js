// The dashboard's own script (no inline script anywhere: the CSP allows only files served here).
// Draws the traffic charts with uPlot from /dashboard/series and refreshes them; asks before a delete.
(function () {
  "use strict";
  var COLORS = { accepted: "#2f5fd0", delivered: "#1f8a4c", deferred: "#b7791f", bounced: "#c0392b" };
  var TYPES = ["accepted", "delivered", "deferred", "bounced"];
  var REFRESH_MS = 10000;

  function draw(el) {
    fetch(el.getAttribute("data-series"), { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (s) {
        var data = [s.minutes].concat(TYPES.map(function (t) { return s.counts[t]; }));
        var width = Math.max(300, el.clientWidth);
        if (el._plot) { el._plot.setData(data); return; }
        el._plot = new uPlot({
          width: width,
          height: 220,
          scales: { y: { range: function (_u, _min, max) { return [0, Math.max(1, max)]; } } },
          series: [{}].concat(TYPES.map(function (t) { return { label: t, stroke: COLORS[t], width: 1.5, points: { show: false } }; })),
        }, data, el);
        el.setAttribute("data-drawn", "true");
      })
      .catch(function () { el.setAttribute("data-error", "true"); });
  }

  function start() {
    var charts = document.querySelectorAll("[data-series]");
    charts.forEach(draw);
    if (charts.length) setInterval(function () { charts.forEach(draw); }, REFRESH_MS);
  }

  document.addEventListener("submit", function (e) {
    var b = e.submitter;
    var q = b && b.getAttribute("data-confirm");
    if (q && !window.confirm(q)) e.preventDefault();
  });
  // A setup form refused (4xx, or 503 when this node cannot seal secrets) answers with the
  // form and its error as HTML: swapped in like a success, not dropped as htmx does by default.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    var html = (d.xhr.getResponseHeader("content-type") || "").indexOf("text/html") === 0;
    if (d.xhr.status >= 400 && html && d.target && d.target.id === "setup") { d.shouldSwap = true; d.isError = false; }
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
