/* "Tra cứu thủ tục": field → procedure → the papers to bring, big enough for an elderly reader.
 * Search types on the on-screen keyboard; diacritics are optional (the kiosk folds them away).
 * From a procedure: print the list on the ticket printer, hear it read aloud, or take a number for its field.
 * After `data-idle` seconds without a touch the screen goes back to the start ("/"), like the other screens. */
(function () {
  "use strict";
  var app = document.getElementById("proc-app");
  var T = window.PROC_TEXT;
  var voice = window.KioskVoice || null;
  var idle = (parseInt(app.dataset.idle, 10) || 60) * 1000;
  var current = null, cameFrom = "p-fields", idleTimer = null, searchTimer = null, busy = false;

  function goHome() { window.location.href = "/"; }
  function touched() { clearTimeout(idleTimer); idleTimer = setTimeout(goHome, idle); }
  document.addEventListener("pointerdown", touched, { passive: true, capture: true });
  touched();

  function show(id) {
    document.querySelectorAll(".t-step").forEach(function (s) { s.classList.toggle("active", s.id === id); });
    app.dataset.step = id;
  }

  function copies(n) { return T.copies.replace("{n}", n); }

  function fill(list, items) {
    list.textContent = "";
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "p-none";
      none.textContent = T.none;
      list.appendChild(none);
      return;
    }
    items.forEach(function (p) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "p-item";
      b.dataset.code = p.code;
      b.textContent = p.name;
      b.addEventListener("click", function () { detail(p, list.id === "p-found" ? "p-search" : "p-list"); });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function load(query) {
    return fetch("/api/procedures?" + query).then(function (r) { return r.ok ? r.json() : []; }, function () { return []; });
  }

  function detail(p, from) {
    current = p;
    cameFrom = from;
    document.getElementById("p-name").textContent = p.name;
    var papers = document.getElementById("p-papers");
    papers.textContent = "";
    p.papers.forEach(function (paper) {
      var li = document.createElement("li");
      li.textContent = paper.name + " – " + copies(paper.copies);
      papers.appendChild(li);
    });
    var forms = document.getElementById("p-forms");
    forms.textContent = p.forms.length ? T.forms + " " + p.forms.join("; ") : "";
    document.getElementById("p-fee").textContent = p.fee || T.notGiven;
    document.getElementById("p-time").textContent = p.time || T.notGiven;
    document.getElementById("p-result").textContent = p.result_at || T.notGiven;
    show("p-detail");
  }

  function done(label, number, text) {
    document.getElementById("p-done-label").textContent = label;
    document.getElementById("p-done-number").textContent = number;
    document.getElementById("p-done-text").textContent = text;
    show("p-done");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(goHome, 15000);
  }

  document.querySelectorAll("[data-field]").forEach(function (tile) {
    tile.addEventListener("click", function () {
      document.getElementById("p-list-title").textContent = tile.dataset.fieldName;
      load("service=" + encodeURIComponent(tile.dataset.field)).then(function (items) {
        fill(document.getElementById("p-items"), items);
        show("p-list");
      });
    });
  });

  var field = document.getElementById("p-q");
  function search(text) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      if (!text.trim()) { document.getElementById("p-found").textContent = ""; return; }
      load("q=" + encodeURIComponent(text)).then(function (items) { fill(document.getElementById("p-found"), items); });
    }, 150);
  }
  var keys = window.KioskKeyboard(document.getElementById("vk"), field, { changed: search, done: search });
  field.addEventListener("input", function () { search(field.value); });
  document.querySelectorAll("[data-open-search]").forEach(function (b) {
    b.addEventListener("click", function () { show("p-search"); field.focus(); keys.open(); });
  });

  document.querySelectorAll("[data-go]").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.go); });
  });
  document.querySelectorAll("[data-go-back]").forEach(function (b) {
    b.addEventListener("click", function () { show(cameFrom); });
  });
  document.querySelectorAll("[data-go-home]").forEach(function (b) { b.addEventListener("click", goHome); });

  document.getElementById("p-print").addEventListener("click", function () {
    if (busy || !current) return;
    busy = true;
    KioskLive.post("/api/procedures/" + encodeURIComponent(current.code) + "/print").then(function (res) {
      busy = false;
      done("", "", res.ok ? T.printed : T.printFailed);
    }, function () { busy = false; done("", "", T.printFailed); });
  });

  document.getElementById("p-ticket").addEventListener("click", function () {
    if (busy || !current) return;
    busy = true;
    KioskLive.post("/api/tickets", { service: current.service, priority: false }).then(function (res) {
      busy = false;
      if (res.ok) done(T.number, res.data.display_number, res.data.service_name || "");
      else done("", "", T.ticketFailed);
    }, function () { busy = false; done("", "", T.ticketFailed); });
  });

  var read = document.getElementById("p-read");
  if (read) {
    var player = document.createElement("audio");
    player.hidden = true;
    document.body.appendChild(player);
    read.addEventListener("click", function () {
      if (!current) return;
      player.src = "/voice/vi/procedure/" + encodeURIComponent(current.code) + ".wav";
      var started = player.play();
      if (started && started.catch) started.catch(function () {});
    });
  }
  if (voice) voice.warm(document);
})();
