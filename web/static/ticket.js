/* The ticket screen: one tap on a field issues a number; it is shown very large with the print outcome,
 * then the screen returns home by itself. "Priority" applies to the next ticket only: it is off again as
 * soon as a ticket is issued, and after `priority_seconds` without a touch (a citizen who chose it and
 * walked away must not hand a priority ticket to the next one). */
(function () {
  "use strict";
  var app = document.getElementById("ticket-app");
  var T = window.KIOSK_TEXT;
  var voice = window.KioskVoice || null;
  var seconds = parseInt(app.dataset.seconds, 10) || 12;
  var secondsNoPaper = parseInt(app.dataset.secondsNoPaper, 10) || 25;
  var prioritySeconds = parseInt(app.dataset.prioritySeconds, 10) || 20;
  var priority = document.getElementById("priority");
  var busy = false, timer = null, priorityTimer = null;
  var stale = false;  // the services changed: the screen reloads as soon as nobody is using it

  function show(id, stay) {
    document.querySelectorAll(".t-step").forEach(function (s) { s.classList.toggle("active", s.id === id); });
    app.dataset.step = id;
    clearTimeout(timer);
    if (id !== "t-home") {
      var bar = document.getElementById("t-countdown-bar");
      bar.style.transition = "none"; bar.style.width = "100%";
      void bar.offsetWidth;
      bar.style.transition = "width " + stay + "s linear"; bar.style.width = "0%";
      timer = setTimeout(home, stay * 1000);
    }
  }

  function home() {
    if (stale) { window.location.reload(); return; }
    busy = false;
    setPriority(false);
    document.querySelectorAll(".t-tile[data-service]").forEach(function (b) { b.classList.remove("pressed"); b.disabled = false; });
    if (voice) voice.reset();
    show("t-home");
  }

  function setPriority(on) {
    priority.setAttribute("aria-pressed", on ? "true" : "false");
    app.classList.toggle("priority-on", on);
    clearTimeout(priorityTimer);
    if (on) priorityTimer = setTimeout(function () { setPriority(false); if (voice) voice.reset(); }, prioritySeconds * 1000);
  }

  // While Priority is on, any touch on the screen restarts its wait.
  document.addEventListener("pointerdown", function () {
    if (priority.getAttribute("aria-pressed") === "true") setPriority(true);
  }, { passive: true, capture: true });

  function showTicket(t) {
    setPriority(false);  // for this ticket only
    document.getElementById("t-number").textContent = t.display_number;
    document.getElementById("t-service").textContent = t.service_name + (t.priority ? " · " + T.priority : "");
    var ahead = t.ahead > 0 ? T.ahead.replace("{n}", t.ahead) : T.aheadNone;
    if (t.ahead > 0 && t.wait_minutes) ahead += " · " + T.wait.replace("{m}", t.wait_minutes);
    document.getElementById("t-ahead").textContent = ahead;
    var line = document.getElementById("t-print");
    var status = { printed: "printed", pending: "pending", failed: "failed", none: "none" }[t.print_status] || "failed";
    line.textContent = { printed: T.printed, pending: T.printing, failed: T.printFailed, none: T.noPrinter }[status];
    var noPaper = status === "failed" || status === "none";
    line.classList.toggle("t-print-bad", noPaper);
    show("t-result", noPaper ? secondsNoPaper : seconds);
    if (voice) voice.prompt([T.voiceNumber.replace("{id}", encodeURIComponent(t.id)), "print_" + status]);
  }

  function showError(res) {
    var reason = res && res.data && res.data.detail && res.data.detail.reason;
    var text = T.failed;
    if (reason === "daily_max") text = T.dailyMax;
    else if (res && (res.status === 404 || reason === "service_inactive")) { text = T.unknownService; stale = true; }
    document.getElementById("t-error-text").textContent = text;
    show("t-error", 8);
    if (voice) voice.prompt("ticket_error");
  }

  priority.addEventListener("click", function () {
    setPriority(priority.getAttribute("aria-pressed") !== "true");
  });

  document.querySelectorAll(".t-tile[data-service]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      btn.classList.add("pressed");
      document.querySelectorAll(".t-tile[data-service]").forEach(function (b) { b.disabled = true; });
      var body = { service: btn.dataset.service, priority: priority.getAttribute("aria-pressed") === "true" };
      KioskLive.post("/api/tickets", body).then(function (res) {
        if (res.ok) showTicket(res.data); else showError(res);
      }, function () { showError(null); });
    });
  });

  document.querySelectorAll("[data-home]").forEach(function (b) { b.addEventListener("click", home); });

  function showWaiting(waiting) {
    document.querySelectorAll("[data-waiting-for]").forEach(function (el) {
      var n = waiting[el.dataset.waitingFor];
      el.textContent = n === undefined ? "" : T.waiting.replace("{n}", n);
    });
  }

  function refresh() {
    fetch("/api/queue").then(function (r) { return r.json(); }).then(function (q) { showWaiting(q.waiting || {}); },
      function () {});
  }

  if (voice) voice.warm(document);
  KioskLive({
    open: refresh,
    event: function (kind, data) {
      if (kind === "queue_changed") showWaiting(data.waiting || {});
      if (kind === "catalog_changed") {
        stale = true;
        if (!busy && (!app.dataset.step || app.dataset.step === "t-home")) window.location.reload();
      }
    }
  });
})();
