/* The clerk console: log in with name, counter and PIN, then call, recall, complete, mark no-show, transfer and
 * pause with the mouse or the keyboard alone (N L H V C P; Tab and Enter reach every button). */
(function () {
  "use strict";
  var T = window.KIOSK_TEXT;
  var me = null, view = null;
  var $ = function (id) { return document.getElementById(id); };

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }

  function say(text, bad) {
    var el = $("c-status");
    el.textContent = text;
    el.classList.toggle("c-error", !!bad);
  }

  function errorText(res) {
    var detail = (res.data && res.data.detail) || {};
    if (res.status === 401) return T.errAuth;
    if (res.status === 403) return T.errForbidden;
    var byReason = { paused: T.errPaused, not_serving: T.errNotServing, not_handled: T.errNotHandled, same_service: T.errSame,
      empty: T.errDossierEmpty, not_ascii: T.errDossierIme, characters: T.errDossierChars, long: T.errDossierLong,
      too_many: T.errDossierMany };
    return byReason[detail.reason] || (res.data && res.data.error) || T.errFailed;
  }

  // --- log in / out ---------------------------------------------------------------------------
  // The counter is always chosen (no silent default); choosing one's name preselects one's usual counter;
  // a counter another clerk holds is named as such, and taking it needs a confirmation (the server refuses
  // it with 409 counter_taken otherwise), which logs that clerk out: one clerk per counter.

  function showLogin(message) {
    me = null;
    $("c-console").hidden = true;
    $("c-login").hidden = false;
    $("login-clerk").value = "";  // the next clerk at this computer chooses again: no counter by default
    $("login-counter").value = "";
    $("login-pin").value = "";
    $("login-confirm").hidden = true;
    $("login-error").textContent = message || "";
    refreshCounters();
    $("login-clerk").focus();
  }

  function showConsole(clerk) {
    me = clerk;
    $("c-login").hidden = true;
    $("c-console").hidden = false;
    $("c-title").textContent = fill(T.title, { n: clerk.counter, clerk: clerk.name });
    document.title = $("c-title").textContent;
    refresh();
    document.querySelector('[data-action="next"]').focus();
  }

  function chosenName() {
    var option = $("login-clerk").selectedOptions[0];
    return option && option.value ? option.textContent : null;
  }

  /* The inline note under the counter list when the chosen counter has another clerk. */
  function showHeld() {
    var option = $("login-counter").selectedOptions[0];
    var holder = option ? option.dataset.clerk : "";
    var other = holder && holder !== chosenName();
    $("login-held").hidden = !other;
    $("login-held").textContent = other ? fill(T.held, { clerk: holder, n: option.value }) : "";
  }

  function refreshCounters() {
    fetch("/api/queue").then(function (r) { return r.json(); }).then(function (q) {
      var holders = {};
      q.counters.forEach(function (c) { holders[c.number] = c.clerk || ""; });
      Array.prototype.forEach.call($("login-counter").options, function (option) {
        if (!option.value || !(option.value in holders)) return;
        option.dataset.clerk = holders[option.value];
        option.textContent = holders[option.value] ? fill(T.counterHeld, { n: option.value, clerk: holders[option.value] })
                                                    : fill(T.counterFree, { n: option.value });
      });
      showHeld();
    }, function () {});
  }

  $("login-clerk").addEventListener("change", function () {
    var usual = $("login-clerk").selectedOptions[0].dataset.counter;
    if (usual && $("login-counter").querySelector('option[value="' + usual + '"]')) $("login-counter").value = usual;
    $("login-confirm").hidden = true;
    showHeld();
  });
  $("login-counter").addEventListener("change", function () { $("login-confirm").hidden = true; showHeld(); });

  function logIn(takeOver) {
    var counter = $("login-counter").value, pin = $("login-pin").value;
    $("login-error").textContent = "";
    if (!counter) { $("login-error").textContent = T.chooseCounter; $("login-counter").focus(); return; }
    if (!pin) { $("login-error").textContent = T.typePin; $("login-pin").focus(); return; }
    var body = { counter: parseInt(counter, 10), pin: pin };
    if ($("login-clerk").value) body.clerk = $("login-clerk").value;
    if (takeOver) body.take_over = true;
    KioskLive.post("/api/clerk/login", body).then(function (res) {
      if (res.ok) { $("login-confirm").hidden = true; showConsole(res.data.clerk); return; }
      var detail = (res.data && res.data.detail) || {};
      if (res.status === 409 && detail.reason === "counter_taken") {
        $("login-confirm-text").textContent = fill(T.confirmTake, { n: detail.counter, clerk: detail.clerk });
        $("login-take").textContent = fill(T.take, { n: detail.counter });
        $("login-confirm").hidden = false;
        $("login-take").focus();
        return;
      }
      $("login-confirm").hidden = true;
      $("login-error").textContent = res.status === 429 ? T.errLocked
        : detail.tries_left !== undefined ? fill(T.errWrongPin, { n: detail.tries_left })
        : (res.data && res.data.error) || T.errFailed;
      $("login-pin").value = "";
      $("login-pin").focus();
    }, function () { $("login-error").textContent = T.errFailed; });
  }

  $("login-form").addEventListener("submit", function (e) { e.preventDefault(); logIn(false); });
  $("login-take").addEventListener("click", function () { logIn(true); });
  $("login-cancel").addEventListener("click", function () {
    $("login-confirm").hidden = true;
    $("login-counter").focus();
  });

  /* Why a call answered 401: another clerk took the counter, or the session simply ended. */
  function ended(res) {
    var detail = (res && res.data && res.data.detail) || {};
    showLogin(detail.reason === "taken_over" ? fill(T.takenOver, { clerk: detail.clerk, n: detail.counter }) : T.errAuth);
  }

  $("logout").addEventListener("click", function () {
    KioskLive.post("/api/clerk/logout").then(function () { showLogin(); }, function () { showLogin(); });
  });

  // --- the counter's view -----------------------------------------------------------------------

  // Several refreshes may be in flight (an event, an action's own refresh): the answer of an older one arriving last
  // must not put back the state from before (a dossier code just attached vanished until the next event).
  var refreshes = 0, rendered = 0;
  function refresh() {
    if (!me) return;
    var asked = ++refreshes;
    fetch("/api/counters/" + me.counter + "/queue", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { r.json().then(function (data) { ended({ data: data }); }, function () { ended(null); }); return null; }
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data || asked < rendered) return;
      rendered = asked;
      render(data);
    }, function () {});
  }
  var refreshSoon = KioskLive.debounce(refresh, 300);

  function render(data) {
    view = data;
    var serving = data.counter.serving;
    $("c-number").textContent = serving ? serving.display_number : "—";
    var name = serving ? serviceName(serving.service) : "";
    $("c-service").textContent = serving ? name + (serving.priority ? " · " + T.priority : "") : "";
    showBooking($("c-booking"), serving && serving.booking);
    $("c-paused").hidden = !data.counter.paused;
    document.querySelector("#pause-btn span").textContent = data.counter.paused ? T.resume : T.pause;
    renderDossiers(serving);
    var fields = (serving && serving.fields) || [];  // a visit of several fields: each, ✓ once completed
    $("c-fields").hidden = fields.length < 2;
    $("c-fields").textContent = fill(T.fieldsLine, { list: fields.map(function (f) {
      return (f.status === "done" ? "✓ " : "") + f.name;
    }).join(" · ") });
    renderCounts(data.waiting);
    renderHeld(data.held || []);
    renderRows($("c-line"), data.line, false);
    renderRows($("c-served"), data.served, true);
  }

  /* A checked-in booking's mark: "Đặt lịch 09:30" (called ahead from that time), or "Trễ hẹn 09:30" for one that
   * came past its grace and waits as a walk-in (kiosk.console_marks). */
  function showBooking(el, booking) {
    el.hidden = !booking;
    el.textContent = booking ? fill(booking.late ? T.bookedLate : T.booked, { time: booking.at || "" }) : "";
    el.classList.toggle("c-booked-late", !!(booking && booking.late));
  }

  function bookingBadge(booking) {
    var el = document.createElement("span");
    el.className = "c-badge c-booked";
    showBooking(el, booking);
    return el;
  }

  /* The field of a line's ticket, or each field still to serve of a visit of several: "Hộ tịch + Chứng thực". */
  function fieldsText(t) {
    return (t.fields_left && t.fields_left.length > 1 ? t.fields_left : [t.service]).map(serviceName).join(" + ");
  }

  function serviceName(code) {
    var found = (view && view.services || []).filter(function (s) { return s.code === code; })[0];
    return found ? found.name : code;
  }

  function renderCounts(waiting) {
    var list = $("c-counts");
    list.textContent = "";
    var order = (view && view.services || []).map(function (x) { return x.code; });
    Object.keys(waiting).sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); }).forEach(function (code) {
      var li = document.createElement("li");
      li.innerHTML = "<span></span> <strong></strong>";
      li.firstChild.textContent = serviceName(code);
      li.lastChild.textContent = waiting[code];
      list.appendChild(li);
    });
  }

  function renderRows(tbody, rows, served) {
    tbody.textContent = "";
    rows.forEach(function (t) {
      var tr = document.createElement("tr");
      if (!served && t.next) tr.className = "c-next";  // the line is in calling order: this is what "next" calls
      var time = t.queued_at ? t.queued_at.substr(11, 5) : "";
      var state = served ? ({ done: T.statusDone, no_show: T.statusNoShow, called: T.statusCalled }[t.status] || t.status) : "";
      [t.display_number + (t.priority ? " ★" : ""), served ? serviceName(t.service) : fieldsText(t), served ? state : time,
       T.ticketStatus[t.print_status] || t.print_status].forEach(function (text, i) {
        var td = document.createElement("td");
        td.textContent = text;
        if (i === 0 && t.booking) { td.appendChild(document.createTextNode(" ")); td.appendChild(bookingBadge(t.booking)); }
        if (i === 3 && t.print_status === "failed") td.className = "c-error";
        tr.appendChild(td);
      });
      var cell = document.createElement("td");
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "c-btn c-small"; btn.textContent = T.reprint;
      btn.addEventListener("click", function () { reprint(t); });
      cell.appendChild(btn);
      if (!served && t.status === "waiting") cell.appendChild(callButton(t, T.callThis));  // not the one served here
      tr.appendChild(cell);
      tbody.appendChild(tr);
    });
  }

  /* Print a ticket again and say what really happened: printed, failed (with the printer's state), or still
   * waiting for the printer, in which case the line is updated when the job ends. */
  function reprint(t) {
    var number = t.display_number;
    say(fill(T.reprinting, { number: number }));
    KioskLive.post("/api/tickets/" + encodeURIComponent(t.id) + "/reprint").then(function (res) {
      if (res.status === 401) { ended(res); return; }
      if (!res.ok) { say(errorText(res), true); return; }
      if (res.status === 202) { say(fill(T.reprintQueued, { number: number })); followPrint(t.id, number, 30); return; }
      printOutcome(number, res.data.printed, res.data.printer);
    }, function () { say(T.errFailed, true); });
  }

  function printOutcome(number, printed, printer) {
    if (printed) say(fill(T.reprinted, { number: number }));
    else say(fill(T.reprintFailed, { number: number, state: T.printStatus[printer === "ok" ? "error" : printer] || printer }), true);
    refreshSoon();
  }

  function followPrint(ticketId, number, triesLeft) {
    setTimeout(function () {
      fetch("/api/printer", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (p) {
        var job = p && p.jobs.filter(function (j) { return j.ticket_id === ticketId; })[0];
        if (job && job.status !== "pending") { printOutcome(number, job.status === "printed", p.status); return; }
        if (triesLeft > 1) followPrint(ticketId, number, triesLeft - 1);
        else say(fill(T.reprintUnknown, { number: number }), true);
      }, function () { if (triesLeft > 1) followPrint(ticketId, number, triesLeft - 1); });
    }, 1000);
  }

  // --- dossier codes ----------------------------------------------------------------------------
  // The codes of the ticket served: typed in the field, or scanned. A USB scanner types like a keyboard — fast,
  // then Enter. Typed into the field, its Enter submits the form; typed anywhere else on the page, the keys
  // come too fast to be a clerk's shortcuts (see the key handler below) and the code is attached all the same.

  function renderDossiers(serving) {
    $("c-dossier").hidden = !serving;
    var list = $("dossier-list");
    list.textContent = "";
    ((serving && serving.dossier_codes) || []).forEach(function (code) {
      var li = document.createElement("li");
      var text = document.createElement("span");
      text.textContent = code;
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "c-btn c-small"; remove.textContent = "×";
      remove.setAttribute("aria-label", fill(T.dossierRemove, { code: code }));
      remove.addEventListener("click", function () { dossier(code, true); });
      li.appendChild(text);
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  function dossier(code, remove) {
    if (!me) return;
    var serving = view && view.counter.serving;
    var before = (serving && serving.dossier_codes) || [];
    var body = { code: code };
    if (remove) body.remove = true;
    KioskLive.post("/api/counters/" + me.counter + "/dossier", body).then(function (res) {
      if (res.status === 401) { ended(res); return; }
      if (!res.ok) { say(errorText(res), true); $("dossier-code").focus(); return; }
      var t = res.data.ticket, shown = t.dossier_codes[t.dossier_codes.length - 1];
      if (remove) say(fill(T.dossierRemoved, { code: code.toUpperCase(), number: t.display_number }));
      else if (before.length === t.dossier_codes.length) say(fill(T.dossierAlready, { code: shown, number: t.display_number }));
      else say(fill(T.dossierAttached, { code: shown, number: t.display_number }));
      if (!remove) $("dossier-code").value = "";
      refresh();
    }, function () { say(T.errFailed, true); });
  }

  $("c-dossier").addEventListener("submit", function (e) {
    e.preventDefault();
    dossier($("dossier-code").value, false);
  });

  // --- actions ----------------------------------------------------------------------------------

  function act(action, body) {
    if (!me) return;
    if (action === "pause" && view && view.counter.paused) action = "resume";
    if ((action === "transfer" || action === "fields") && !body) { openTransfer(action); return; }
    if (action === "hold" && !body) { openHold(); return; }
    KioskLive.post("/api/counters/" + me.counter + "/" + action, body).then(function (res) {
      if (res.status === 401) { ended(res); return; }
      if (!res.ok) { say(errorText(res), true); return; }
      var t = res.data && res.data.ticket;
      var n = t ? t.display_number : "";
      var messages = {
        next: t ? fill(T.called, { number: n }) : T.nobody,
        recall: fill(T.recalled, { number: n }),
        complete: fill(T.completed, { number: n }),
        "no-show": fill(T.noShow, { number: n }),
        transfer: t ? fill(T.transferred, { number: n, field: t.service_name }) : "",
        hold: t && t.hold ? fill(T.heldMsg, { number: n, time: t.hold.until_hm }) : "",
        call: t ? fill(t.from_hold ? T.calledBack : T.calledOut, { number: n }) : "",
        fields: t && body ? fill(T.fieldAdded, { number: n, field: serviceName(body.service) }) : "",
        pause: T.paused,
        resume: T.resumed
      };
      say(messages[action]);
      refresh();
    }, function () { say(T.errFailed, true); });
  }

  var transferAsk = null;  // the panel's own question, kept while it asks for a field to add

  function openTransfer(mode) {
    var serving = view && view.counter.serving;
    if (!serving) { say(T.errNotServing, true); return; }
    var ask = $("c-transfer-ask");
    if (transferAsk === null) transferAsk = ask.textContent;
    ask.textContent = mode === "fields" ? T.addAsk : transferAsk;
    var carried = (serving.fields || []).filter(function (f) { return f.status === "waiting"; })
      .map(function (f) { return f.code; });
    var box = $("c-transfer-options");
    box.textContent = "";
    var n = 0;
    view.services.forEach(function (s) {
      if (s.code === serving.service || (mode === "fields" && carried.indexOf(s.code) >= 0)) return;
      n += 1;
      var b = document.createElement("button");
      b.type = "button"; b.className = "c-btn"; b.dataset.service = s.code; b.dataset.key = String(n);
      b.innerHTML = "<kbd></kbd> <span></span>";
      b.firstChild.textContent = String(n);
      b.lastChild.textContent = s.name;
      b.addEventListener("click", function () { closeTransfer(mode); act(mode || "transfer", { service: s.code }); });
      box.appendChild(b);
    });
    $("c-transfer").hidden = false;
    if (box.firstChild) box.firstChild.focus();
  }

  function closeTransfer(mode) {
    $("c-transfer").hidden = true;
    document.querySelector('[data-action="' + (mode === "fields" ? "fields" : "transfer") + '"]').focus();
  }

  // --- hold and return, call a particular ticket (kiosk.holds) ---------------------------------------

  function openHold() {
    if (!(view && view.counter.serving)) { say(T.errNotServing, true); return; }
    var box = $("c-hold-options");
    box.textContent = "";
    Object.keys(T.holdReasons).forEach(function (code, i) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "c-btn"; b.dataset.reason = code; b.dataset.key = String(i + 1);
      b.innerHTML = "<kbd></kbd> <span></span>";
      b.firstChild.textContent = String(i + 1);
      b.lastChild.textContent = T.holdReasons[code];
      b.addEventListener("click", function () { closeHold(); act("hold", { reason: code }); });
      box.appendChild(b);
    });
    $("c-hold").hidden = false;
    box.firstChild.focus();
  }

  function closeHold() {
    $("c-hold").hidden = true;
    document.querySelector('[data-action="hold"]').focus();
  }

  function callButton(t, label) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "c-btn c-small c-call"; b.textContent = label;
    b.setAttribute("aria-label", fill(t.status === "held" ? T.callBackLabel : T.callThisLabel, { number: t.display_number }));
    b.addEventListener("click", function () { act("call", { ticket_id: t.id }); });
    return b;
  }

  function renderHeld(held) {
    var tbody = $("c-held");
    tbody.textContent = "";
    $("c-held-box").hidden = !held.length;
    held.forEach(function (t) {
      var tr = document.createElement("tr");
      [t.display_number, T.holdReasons[t.hold.reason] || "", fill(T.heldUntil, { time: t.hold.until_hm })]
        .forEach(function (text, i) {
          var td = document.createElement("td");
          td.textContent = text;
          if (i === 0 && t.booking) { td.appendChild(document.createTextNode(" ")); td.appendChild(bookingBadge(t.booking)); }
          tr.appendChild(td);
        });
      var cell = document.createElement("td");
      cell.appendChild(callButton(t, T.callBack));
      tr.appendChild(cell);
      tbody.appendChild(tr);
    });
  }

  document.querySelectorAll("[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.dataset.action); });
  });

  var KEYS = { n: "next", l: "recall", h: "complete", v: "no-show", c: "transfer", g: "hold", t: "fields", p: "pause" };
  /* Keys closer together than BURST ms are a scanner typing, not a clerk pressing shortcuts: a shortcut waits
   * that long to see whether more keys follow. A burst that ends with Enter is a scanned code and is attached;
   * one without Enter goes into the field for the clerk to check. */
  var BURST = 60, burst = "", burstTimer = null;

  function endBurst() {
    var typed = burst;
    burst = ""; burstTimer = null;
    if (typed.length === 1) {
      if (typed.toLowerCase() === "m") { $("dossier-code").focus(); return; }
      var action = KEYS[typed.toLowerCase()];
      if (action) act(action);
    } else if (typed.length > 1) {
      $("dossier-code").value = typed;
      $("dossier-code").focus();
    }
  }

  document.addEventListener("keydown", function (e) {
    if (!me || e.ctrlKey || e.altKey || e.metaKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    var transferOpen = !$("c-transfer").hidden;
    if (transferOpen) {
      if (e.key === "Escape") { e.preventDefault(); closeTransfer(); return; }
      var pick = document.querySelector('#c-transfer-options [data-key="' + e.key + '"]');
      if (pick) { e.preventDefault(); pick.click(); }
      return;
    }
    if (!$("c-hold").hidden) {
      if (e.key === "Escape") { e.preventDefault(); closeHold(); return; }
      var reason = document.querySelector('#c-hold-options [data-key="' + e.key + '"]');
      if (reason) { e.preventDefault(); reason.click(); }
      return;
    }
    if (e.key === "Enter" && burst.length > 1) {  // a scanner's Enter: the code it typed
      e.preventDefault();
      clearTimeout(burstTimer);
      var code = burst;
      burst = ""; burstTimer = null;
      dossier(code, false);
      return;
    }
    if (e.key && e.key.length === 1 && e.key !== " ") {
      e.preventDefault();
      burst += e.key;
      clearTimeout(burstTimer);
      burstTimer = setTimeout(endBurst, BURST);
    }
  });

  // --- printer status and live updates ---------------------------------------------------------

  function printer() {
    fetch("/healthz").then(function (r) { return r.json(); }).then(function (h) {
      var el = $("c-printer");
      el.textContent = T.printStatus[h.printer] || h.printer;
      el.className = "c-badge " + (h.printer === "ok" ? "c-badge-ok" : "c-badge-warn");
    }, function () {});
  }
  printer();
  setInterval(printer, 10000);
  setInterval(refresh, 15000);

  KioskLive({
    open: refresh,
    event: function (kind, data) {
      if (!me) { if (kind === "clerk_login" || kind === "clerk_logout") refreshCounters(); return; }
      if (kind === "queue_changed" && view) {
        var mine = {};
        view.counter.services.forEach(function (code) { mine[code] = (data.waiting || {})[code] || 0; });
        renderCounts(mine);
      }
      if (kind !== "rating_recorded") refreshSoon();
      if (kind === "printer_status") printer();
    }
  });

  fetch("/api/clerk/me", { credentials: "same-origin" }).then(function (r) {
    return r.json().then(function (data) { return { ok: r.ok, data: data }; });
  }).then(function (res) {
    if (res.ok) { showConsole(res.data.clerk); return; }
    var detail = (res.data && res.data.detail) || {};
    if (detail.reason === "taken_over") ended(res); else showLogin();
  }, function () { showLogin(); });
})();
