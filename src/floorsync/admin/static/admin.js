// floorsync admin: a few behaviours, no dependencies. Pages work without JavaScript.
"use strict";

// Forms with data-confirm ask first (revoking a key, replaying an event, enabling an endpoint).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // One click, one post: a double click must not replay or create twice.
  if (form.method.toLowerCase() === "post") {
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      setTimeout(function () { button.disabled = true; }, 0);
    });
  }
});

// Buttons with data-copy="<input id>" copy that input's value.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  field.select();
  var done = function () {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () {});
  } else if (document.execCommand("copy")) {
    done();
  }
});

// Data Import: a running preview or import polls its progress.json once a second and updates
// the bar and the counts; when the job ends, the page reloads to show the next step. (Without
// JavaScript the page refreshes itself every 2 seconds.)
(function () {
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) return;
  var url = panel.getAttribute("data-progress-url");
  var bar = panel.querySelector("progress");
  var number = function (n) { return Math.round(n).toLocaleString("en-US").replace(/,/g, "\u202f"); };
  var set = function (name, text) {
    var el = panel.querySelector('[data-progress="' + name + '"]');
    if (el) el.textContent = text;
  };
  var tick = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { setTimeout(tick, 2000); return; }
        if (p.status !== "queued" && p.status !== "running") { window.location.reload(); return; }
        bar.max = Math.max(p.total_rows, 1);
        bar.value = p.processed_rows;
        set("percent", p.percent);
        set("processed_rows", number(p.processed_rows));
        set("current_file", p.current_file || "—");
        set("rows_per_second", number(p.rows_per_second));
        set("eta_seconds", p.eta_seconds === null ? "—" : Math.round(p.eta_seconds) + " s");
        set("created", number(p.counts.created));
        set("updated", number(p.counts.updated));
        set("unchanged", number(p.counts.unchanged));
        set("failed", number(p.counts.failed));
        var lost = panel.querySelector('[data-progress="worker_lost"]');
        if (lost) lost.hidden = !p.worker_lost;
        setTimeout(tick, 1000);
      })
      .catch(function () { setTimeout(tick, 2000); });
  };
  setTimeout(tick, 1000);
})();

// The upload's drop area accepts files dropped onto it.
(function () {
  var zone = document.querySelector(".dropzone");
  if (!zone) return;
  var input = zone.querySelector("input[type=file]");
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) input.files = e.dataTransfer.files;
  });
})();
