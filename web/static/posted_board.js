/* The display board between calls: after `rest` seconds without a call it shows the commune's posted rules and fee
 * table (GET /api/posted?kind=rules,fees), one every `turn` seconds, over the counters; a call (display.js fires
 * "kiosk:called") takes the screen at once and the wait starts again. `?rest=` and `?turn=` (seconds) tune it. */
(function () {
  "use strict";
  var box = document.getElementById("d-posted");
  if (!box) return;
  var params = new URLSearchParams(window.location.search);
  function seconds(name, fallback) {
    var n = parseInt(params.get(name), 10);
    return (isNaN(n) ? fallback : Math.min(Math.max(n, 1), 3600)) * 1000;
  }
  var rest = seconds("rest", 60), turn = seconds("turn", 20);
  var docs = [], at = 0, waitTimer = null, turnTimer = null;

  function load() {
    return fetch("/api/posted?kind=rules,fees").then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) { docs = list; }, function () {});
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function draw(d) {
    box.textContent = "";
    box.appendChild(el("h2", d.title));
    var body = el("div", undefined, "d-posted-body");
    if (d.kind === "fees") {
      var table = el("table");
      d.rows.forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", r.note ? r.name + " (" + r.note + ")" : r.name));
        tr.appendChild(el("td", r.amount));
        table.appendChild(tr);
      });
      body.appendChild(table);
    } else {
      body.textContent = d.body;
    }
    box.appendChild(body);
    box.dataset.doc = d.id;
  }
  /* A long text on a small board: smaller letters until it all shows (not below 2.2 % of the screen's height). */
  function fit() {
    var body = box.querySelector(".d-posted-body");
    var target = body.querySelector("table") || body;
    var size = parseFloat(window.getComputedStyle(target).fontSize), floor = window.innerHeight * 0.022;
    while (body.scrollHeight > body.clientHeight + 1 && size > floor) {
      size = Math.max(size * 0.94, floor);
      target.style.fontSize = size + "px";
    }
  }
  function next() {
    if (!docs.length) { hide(); wait(); return; }
    draw(docs[at % docs.length]);
    at += 1;
    box.hidden = false;
    fit();
    turnTimer = setTimeout(next, turn);
  }
  function hide() {
    clearTimeout(turnTimer);
    box.hidden = true;
  }
  function wait() {
    clearTimeout(waitTimer);
    waitTimer = setTimeout(function () { load().then(next); }, rest);
  }
  document.addEventListener("kiosk:called", function () { hide(); wait(); });
  wait();
})();
