/* The display board: the number at each counter, the last calls and the waiting counts.
 * A call is drawn straight from its SSE event (no round trip); other changes reload the snapshot;
 * after a server restart the board reconnects and reloads by itself.
 * - The clock shows the kiosk's time in the commune's time zone (sent with the snapshot and every ping),
 *   never the board computer's own clock or zone.
 * - "Last calls" lists each ticket once, at its latest call (a recall moves it to the top).
 * - The footer only ever says a call heard live since the last (re)connection: a reconnect or a restart
 *   never announces an old call as if it were new. */
(function () {
  "use strict";
  var T = window.KIOSK_TEXT;
  var snap = window.KIOSK_SNAPSHOT;
  var $ = function (id) { return document.getElementById(id); };
  var names = {};

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }

  function render(s) {
    snap = s;
    names = {};
    s.services.forEach(function (x) { names[x.code] = x.name; });
    // Rows are updated in place (a flash in progress goes on); only a changed set of counters rebuilds them.
    var rows = $("d-rows");
    var same = rows.children.length === s.counters.length && s.counters.every(function (c, i) {
      return rows.children[i].dataset.counter === String(c.number);
    });
    if (!same) {
      rows.textContent = "";
      s.counters.forEach(function (c) {
        var row = document.createElement("div");
        row.className = "d-row";
        row.dataset.counter = c.number;
        row.innerHTML = '<span class="d-counter"></span><span class="d-number"></span><span class="d-note"></span>';
        row.children[0].textContent = c.number;
        rows.appendChild(row);
      });
    }
    s.counters.forEach(function (c, i) {
      var row = rows.children[i];
      row.classList.toggle("d-paused", !!c.paused);
      row.children[1].textContent = c.serving ? c.serving.display_number : "—";
      row.children[2].textContent = c.paused ? T.paused : "";
    });
    renderRecent(s.recent);
    renderWaiting(s.waiting);
    renderHeld(s.held || []);
    if (s.now) setTime(s.now);
  }

  function renderRecent(recent) {
    var list = $("d-recent");
    list.textContent = "";
    recent.slice(0, 6).forEach(function (r) {
      var li = document.createElement("li");
      li.innerHTML = '<strong></strong><span></span>';
      li.firstChild.textContent = r.display_number;
      li.lastChild.textContent = "→ " + fill(T.toCounter, { n: r.counter });
      list.appendChild(li);
    });
  }

  function renderWaiting(waiting) {
    var list = $("d-waiting");
    list.textContent = "";
    var order = snap.services.map(function (x) { return x.code; });
    Object.keys(waiting).forEach(function (code) { if (order.indexOf(code) < 0) order.push(code); });
    order.filter(function (code) { return code in waiting; }).forEach(function (code) {
      var li = document.createElement("li");
      li.innerHTML = "<span></span><strong></strong>";
      li.firstChild.textContent = names[code] || code;
      li.lastChild.textContent = waiting[code];
      list.appendChild(li);
    });
  }

  /* Tickets on hold (giữ chỗ): their place is kept at a counter until a time (kiosk.holds). */
  function renderHeld(held) {
    var list = $("d-held");
    list.textContent = "";
    $("d-held-box").hidden = !held.length;
    held.forEach(function (h) {
      var li = document.createElement("li");
      li.innerHTML = "<strong></strong><span></span>";
      li.firstChild.textContent = h.display_number;
      li.lastChild.textContent = fill(T.heldAt, { n: h.counter, time: h.hold.until_hm });
      list.appendChild(li);
    });
  }

  function called(data) {
    var row = document.querySelector('.d-row[data-counter="' + data.counter + '"]');
    if (row) {
      row.children[1].textContent = data.display_number;
      row.classList.remove("d-flash");
      void row.offsetWidth;
      row.classList.add("d-flash");
      row.addEventListener("animationend", function done(e) {
        if (e.target !== row) return;
        row.classList.remove("d-flash");
        row.removeEventListener("animationend", done);
      });
    }
    snap.recent = snap.recent.filter(function (r) { return r.id !== data.id; });
    snap.recent.unshift({ id: data.id, display_number: data.display_number, counter: data.counter, service: data.service });
    snap.recent = snap.recent.slice(0, 8);
    renderRecent(snap.recent);
    $("d-call").textContent = fill(T.call, { number: data.display_number, counter: data.counter });
    document.dispatchEvent(new CustomEvent("kiosk:called"));  // the posted rules give way (posted_board.js)
  }

  function reload() {
    fetch("/api/queue").then(function (r) { return r.json(); }).then(render, function () {});
  }
  var reloadSoon = KioskLive.debounce(reload, 250);

  // The kiosk's clock: its time when last heard (ISO with the commune's UTC offset) moved on by this browser's
  // elapsed time, shown in the commune's zone whatever this computer's own clock and zone are.
  var skew = 0, offset = null;
  function setTime(iso) {
    var at = Date.parse(iso);
    var zone = /([+-])(\d\d):(\d\d)$/.exec(iso);
    if (isNaN(at) || !zone) return;
    skew = at - Date.now();
    offset = (zone[1] === "-" ? -1 : 1) * (parseInt(zone[2], 10) * 60 + parseInt(zone[3], 10));
    tick();
  }
  function tick() {
    if (offset === null) return;
    var d = new Date(Date.now() + skew + offset * 60000);
    var text = ("0" + d.getUTCHours()).slice(-2) + ":" + ("0" + d.getUTCMinutes()).slice(-2);
    var el = $("d-clock");
    if (el.textContent !== text) el.textContent = text;
    el.setAttribute("datetime", text);
  }
  setInterval(tick, 1000);

  render(snap);
  KioskLive({
    open: function () { $("d-call").textContent = ""; reload(); },
    down: function () { $("d-call").textContent = T.reconnecting; },
    ping: function (data) { if (data.now) setTime(data.now); },
    event: function (kind, data) {
      if (kind === "ticket_called") { called(data); if (data.held) reloadSoon(); }
      else if (kind === "queue_changed") renderWaiting(data.waiting || {});
      else if (kind !== "rating_recorded" && kind !== "ticket_issued") reloadSoon();
    }
  });
})();
