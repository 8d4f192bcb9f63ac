/* The publishing progress page: polls the progress URL until every card has the design. */
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) { return; }
  var doneText = box.dataset.doneText;
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); }).then(function (p) {
        ["apple", "google"].forEach(function (k) {
          box.querySelector("[data-done=" + k + "]").textContent = p[k].done;
          box.querySelector("[data-total=" + k + "]").textContent = p[k].total;
          var meter = box.querySelector("[data-meter=" + k + "]");
          meter.max = p[k].total || 1; meter.value = p[k].total ? p[k].done : 1;
        });
        if (p.finished) {
          var state = document.getElementById("progress-state");
          state.textContent = doneText; state.className = "ok";
        } else { setTimeout(poll, 2000); }
      });
  }
  setTimeout(poll, 1500);
})();
