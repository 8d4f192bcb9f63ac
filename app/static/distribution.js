// Distribution page: copy a signup link to the clipboard.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      input.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value).then(done, done); }
      else { document.execCommand("copy"); done(); }
    });
  });
})();

// E-mail list upload: a column mapper from the file's header, the dry run's report, then
// the import's progress and its mails, polled until it is done.
(function () {
  "use strict";
  var box = document.querySelector("[data-importer]");
  if (!box) { return; }
  var form = box.querySelector("[data-import-form]");
  var file = form.querySelector("input[type=file]");
  var mapper = box.querySelector("[data-mapper]");
  var rows = box.querySelector("[data-map-rows]");
  var rowTemplate = box.querySelector("template[data-map-row]");
  var fields = ["email", "name", "birthday", "phone", "external_id", "language"];
  var pressed = null;

  function headerCells(line) {
    var out = [], cell = "", quoted = false;
    for (var i = 0; i < line.length; i++) {
      var c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { cell += '"'; i++; }
        else if (c === '"') { quoted = false; } else { cell += c; }
      } else if (c === '"') { quoted = true; }
      else if (c === "," || c === ";" || c === "\t") { out.push(cell.trim()); cell = ""; }
      else { cell += c; }
    }
    out.push(cell.trim());
    return out.filter(function (h) { return h.length; });
  }

  function guess(header) {
    var key = header.toLowerCase().replace(/[^a-z]/g, "");
    if (key.indexOf("mail") >= 0) { return "email"; }
    if (key.indexOf("name") >= 0) { return "name"; }
    if (key.indexOf("phone") >= 0 || key.indexOf("mobile") >= 0) { return "phone"; }
    if (key.indexOf("birth") >= 0) { return "birthday"; }
    if (key.indexOf("lang") >= 0) { return "language"; }
    return fields.indexOf(key) >= 0 ? key : "";
  }

  file.addEventListener("change", function () {
    rows.innerHTML = "";
    if (!file.files.length) { mapper.hidden = true; return; }
    file.files[0].slice(0, 8192).text().then(function (text) {
      headerCells(text.replace(/^\uFEFF/, "").split(/\r?\n/)[0]).forEach(function (header, n) {
        var row = rowTemplate.content.firstElementChild.cloneNode(true);
        var label = row.querySelector("label"), select = row.querySelector("select");
        select.id = "map-" + n;
        select.setAttribute("data-header", header);
        label.htmlFor = select.id;
        label.textContent = header;
        select.value = guess(header);
        rows.appendChild(row);
      });
      mapper.hidden = false;
    });
  });

  function mapping() {
    var out = {};
    rows.querySelectorAll("select").forEach(function (s) {
      if (s.value) { out[s.getAttribute("data-header")] = s.value; }
    });
    return JSON.stringify(out);
  }

  function fill(root, attr, data) {
    root.querySelectorAll("[" + attr + "]").forEach(function (el) {
      var value = data[el.getAttribute(attr)];
      el.textContent = value === undefined || value === null ? "0" : String(value);
    });
  }

  function showError(body) {
    var err = body && body.error ? body.error : {message: "Error"};
    var general = box.querySelector("[data-error]");
    box.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; });
    var fieldsShown = false;
    Object.keys(err.fields || {}).forEach(function (name) {
      var p = box.querySelector("[data-error-for='" + name + "']");
      if (p) { p.textContent = err.fields[name]; p.hidden = false; fieldsShown = true; }
    });
    general.textContent = err.message;
    general.hidden = fieldsShown;
  }

  function poll(url) {
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (job) {
      var progress = box.querySelector("[data-progress]");
      progress.hidden = false;
      fill(progress, "data-p", job);
      fill(progress, "data-m", job.mails || {});
      var names = JSON.parse(box.getAttribute("data-statuses") || "{}");
      progress.querySelector("[data-p=status]").textContent = names[job.status] || job.status;
      var bar = progress.querySelector("[data-bar]");
      bar.value = job.status === "running" ? Math.min(95, 5 + job.processed) : 100;
      var mailsWaiting = (job.mails || {}).pending || 0;
      if (job.status === "running" || mailsWaiting) { window.setTimeout(function () { poll(url); }, 1000); }
    });
  }

  form.querySelectorAll("button[type=submit]").forEach(function (b) {
    b.addEventListener("click", function () { pressed = b; });
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    data.set("mapping", mapping());
    var dry = pressed && pressed.name === "dry_run";
    if (dry) { data.set("dry_run", "1"); }
    box.querySelector("[data-error]").hidden = true;
    fetch(box.getAttribute("data-url"), {method: "POST", body: data, credentials: "same-origin",
                                          headers: {"X-CSRF-Token": data.get("csrf_token")}})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (answer) {
        var ok = answer[0], body = answer[1];
        if (!ok) { showError(body); return; }
        box.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; });
        if (body.dry_run) {
          var report = box.querySelector("[data-report]");
          report.hidden = false;
          fill(report, "data-r", body);
          var list = report.querySelector("[data-r-errors]");
          list.innerHTML = "";
          (body.errors || []).slice(0, 20).forEach(function (e) {
            var li = document.createElement("li");
            li.textContent = "#" + e.row + (e.field ? " \u00b7 " + e.field : "") + ": " + e.message;
            list.appendChild(li);
          });
        } else {
          form.querySelector("[data-import-button]").disabled = true;
          poll(box.getAttribute("data-status").replace(/0$/, String(body.id)));
        }
      });
  });
})();
