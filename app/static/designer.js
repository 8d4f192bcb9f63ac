// The card designer's live preview: the draft form is posted (not saved) to the preview
// endpoint as the merchant types; the server answers the preview and the design checks
// rendered from the same card model as the real passes, or the errors of each field.
(function () {
  "use strict";
  var form = document.getElementById("design-form");
  if (!form) { return; }
  var previewBox = document.getElementById("preview");
  var checksBox = document.getElementById("checks");
  var state = document.getElementById("preview-state");
  var token = form.querySelector("input[name=csrf_token]").value;
  var shownLang = null;
  var timer = null;
  var sequence = 0;

  function showErrors(errors) {
    form.querySelectorAll("p.error[id^='e-']").forEach(function (p) {
      var name = p.id.slice(2);
      var field = document.getElementById("f-" + name);
      if (errors[name]) {
        p.textContent = errors[name];
        p.hidden = false;
        if (field) { field.setAttribute("aria-invalid", "true"); field.closest(".field").classList.add("has-error"); }
      } else {
        p.hidden = true;
        if (field) { field.removeAttribute("aria-invalid"); field.closest(".field").classList.remove("has-error"); }
      }
    });
  }

  function selectLang(lang) {
    var panels = previewBox.querySelectorAll("[data-lang]");
    var found = false;
    panels.forEach(function (panel) { if (panel.dataset.lang === lang) { found = true; } });
    if (!found && panels.length) { lang = panels[0].dataset.lang; }
    shownLang = lang;
    panels.forEach(function (panel) { panel.hidden = panel.dataset.lang !== lang; });
    previewBox.querySelectorAll("[data-lang-tab]").forEach(function (tab) {
      var on = tab.dataset.langTab === lang;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
  }

  function refresh() {
    var mine = ++sequence;
    state.textContent = "…";
    fetch(form.dataset.previewUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-CSRF-Token": token, "Accept": "application/json"}
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (mine !== sequence) { return; }
      showErrors(answer.errors || {});
      if (answer.preview !== undefined) {
        previewBox.innerHTML = answer.preview;
        checksBox.innerHTML = answer.checks;
        selectLang(shownLang);
        state.textContent = "";
        previewBox.dispatchEvent(new CustomEvent("previewupdated", {bubbles: true}));
      } else {
        state.textContent = "!";
      }
    }).catch(function () { state.textContent = "!"; });
  }

  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);

  form.querySelectorAll("input[type=color][data-color-for]").forEach(function (picker) {
    var text = document.getElementById(picker.dataset.colorFor);
    picker.addEventListener("input", function () { text.value = picker.value.toUpperCase(); soon(); });
    text.addEventListener("input", function () {
      if (/^#[0-9A-Fa-f]{6}$/.test(text.value)) { picker.value = text.value.toLowerCase(); }
    });
  });

  form.querySelectorAll("input[data-lang-check]").forEach(function (box) {
    box.addEventListener("change", function () {
      var panel = form.querySelector("[data-translations='" + box.value + "']");
      if (panel) { panel.hidden = !box.checked; if (box.checked) { panel.open = true; } }
    });
  });

  previewBox.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-lang-tab]");
    if (tab) { selectLang(tab.dataset.langTab); }
  });
  previewBox.addEventListener("keydown", function (event) {
    var tab = event.target.closest("[data-lang-tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) { return; }
    var tabs = Array.prototype.slice.call(previewBox.querySelectorAll("[data-lang-tab]"));
    var next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    selectLang(next.dataset.langTab);
    next.focus();
  });

  // An image is previewed before it is saved: fitted (logo) or cover-cropped around the
  // centre (strip, icon) to the card's shape, as the server will process it.
  var SHAPES = {logo: [160, 50], strip: [375, 123], icon: [29, 29]};

  function describe(note, kind, width, height, minimum) {
    var shape = SHAPES[kind];
    var text = note.dataset.size.replace("{width}", width).replace("{height}", height) + " ";
    var ratio = width / height, wanted = shape[0] / shape[1];
    if (kind === "logo") { text += note.dataset.fit; }
    else if (Math.abs(ratio - wanted) < 0.01) { text += note.dataset.exact; }
    else { text += ratio > wanted ? note.dataset.sides : note.dataset.ends; }
    var least = minimum.split("×");
    if (width < +least[0] || height < +least[1]) {
      text += " " + note.dataset.small.replace("{min}", minimum);
    }
    note.textContent = text;
  }

  // The part of the image a centre cover-crop keeps (as app/wallet/images.py crops it),
  // in percent of the whole image.
  function frameCrop(frame, kind, width, height) {
    var shape = SHAPES[kind];
    var factor = Math.max(shape[0] / width, shape[1] / height);
    var keptW = Math.min(width, shape[0] / factor), keptH = Math.min(height, shape[1] / factor);
    frame.style.left = (100 * (width - keptW) / 2 / width) + "%";
    frame.style.top = (100 * (height - keptH) / 2 / height) + "%";
    frame.style.width = (100 * keptW / width) + "%";
    frame.style.height = (100 * keptH / height) + "%";
  }

  document.querySelectorAll("form[data-image-kind]").forEach(function (imageForm) {
    var kind = imageForm.dataset.imageKind;
    var input = imageForm.querySelector("input[type=file]");
    var error = document.getElementById("e-" + kind);
    var check = imageForm.querySelector("[data-image-check]");
    var result = imageForm.querySelector("[data-image-result]");
    var shown = null;

    function close() {
      check.hidden = true;
      if (shown) { URL.revokeObjectURL(shown); shown = null; }
    }

    input.addEventListener("change", function () {
      close();
      if (!input.files.length) { return; }
      shown = URL.createObjectURL(input.files[0]);
      var whole = imageForm.querySelector("[data-image-whole]");
      result.onload = function () {
        describe(imageForm.querySelector("[data-image-note]"), kind, result.naturalWidth,
                 result.naturalHeight, imageForm.dataset.min);
        error.hidden = true;
        imageForm.classList.remove("has-error");
        check.hidden = false;
        imageForm.querySelector("[data-image-use]").focus();
        if (whole) {
          // the whole image at most 375 wide and 160 high, keeping its shape
          whole.parentNode.style.width = Math.min(375, 160 * result.naturalWidth / result.naturalHeight) + "px";
          frameCrop(imageForm.querySelector("[data-crop-window]"), kind, result.naturalWidth, result.naturalHeight);
        }
      };
      // a file that is not a picture is refused at once (the server refuses it too)
      result.onerror = refuse;
      if (["image/png", "image/jpeg"].indexOf(input.files[0].type) < 0) { refuse(); return; }
      result.src = shown;
      if (whole) { whole.src = shown; }
    });

    function refuse() {
      close();
      input.value = "";
      error.textContent = imageForm.dataset.notImage;
      error.hidden = false;
      imageForm.classList.add("has-error");
    }
    imageForm.querySelector("[data-image-cancel]").addEventListener("click", function () {
      close();
      input.value = "";
      input.focus();
    });
    imageForm.querySelector("[data-image-use]").addEventListener("click", function () {
      fetch(imageForm.action, {
        method: "POST", body: new FormData(imageForm), credentials: "same-origin",
        headers: {"X-CSRF-Token": token, "X-Requested-With": "fetch", "Accept": "application/json"}
      }).then(function (r) { return r.json(); }).then(function (answer) {
        var message = (answer.errors || {})[kind];
        error.textContent = message || "";
        error.hidden = !message;
        imageForm.classList.toggle("has-error", !!message);
        if (!message) {
          close();
          input.value = "";
          var thumb = imageForm.querySelector("[data-thumb]");
          thumb.src = thumb.src.split("?")[0] + "?v=" + answer.tag;
          refresh();
        }
      });
    });
  });

  selectLang(null);
})();
