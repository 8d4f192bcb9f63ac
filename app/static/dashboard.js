// The dashboard's small helpers: selects that submit when changed, confirmations.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // On a narrow screen the designer's tabs scroll sideways: show the current one.
  document.querySelectorAll(".design-tabs [aria-current=page]").forEach(function (tab) {
    var bar = tab.parentNode;
    if (tab.offsetLeft + tab.offsetWidth > bar.clientWidth) {
      bar.scrollLeft = tab.offsetLeft - (bar.clientWidth - tab.offsetWidth) / 2;
    }
  });
  // Colour pickers beside a "#RRGGBB" text field (the designer's own form keeps its own).
  document.querySelectorAll("input[type=color][data-color-for]").forEach(function (picker) {
    if (picker.closest("#design-form")) { return; }
    var text = document.getElementById(picker.dataset.colorFor);
    picker.addEventListener("input", function () { text.value = picker.value.toUpperCase(); });
    text.addEventListener("input", function () {
      if (/^#[0-9A-Fa-f]{6}$/.test(text.value)) { picker.value = text.value.toLowerCase(); }
    });
  });
})();
