/* The suggestion box (/gop-y): write, optionally leave a phone number, send. On the kiosk's screen the on-screen
 * keyboard types into whichever box was touched last, and the screen goes back to the start after idle. */
(function () {
  "use strict";
  var app = document.getElementById("s-app");
  var T = window.SUGGESTION_TEXT;
  var onKiosk = app.dataset.kiosk === "yes";
  var text = document.getElementById("s-text"), contact = document.getElementById("s-contact");
  var error = document.getElementById("s-error");
  var busy = false, idleTimer = null;

  function goHome() { window.location.href = "/"; }
  function show(id) {
    document.querySelectorAll(".s-step").forEach(function (s) { s.classList.toggle("active", s.id === id); });
  }

  if (onKiosk) {
    var idle = (parseInt(app.dataset.idle, 10) || 60) * 1000;
    var touched = function () { clearTimeout(idleTimer); idleTimer = setTimeout(goHome, idle); };
    document.addEventListener("pointerdown", touched, { passive: true, capture: true });
    touched();
    // One keyboard for both boxes: it types into the box touched last.
    var active = text;
    var target = {
      get value() { return active.value; },
      set value(v) { active.value = v; },
      get selectionStart() { return active.selectionStart; },
      get selectionEnd() { return active.selectionEnd; },
      get maxLength() { return active.maxLength; },
      setRangeText: function (a, b, c, d) { active.setRangeText(a, b, c, d); },
      setSelectionRange: function (a, b) { active.setSelectionRange(a, b); }
    };
    var keys = window.KioskKeyboard(document.getElementById("vk"), target, {
      done: function () { document.getElementById("s-send").focus(); }
    });
    [text, contact].forEach(function (box) {
      box.addEventListener("focus", function () { active = box; keys.open(); });
    });
    text.focus();
  }

  document.getElementById("s-send").addEventListener("click", function () {
    if (busy) return;
    error.textContent = "";
    if (!text.value.trim()) { error.textContent = T.empty; return; }
    var body = { text: text.value };
    if (contact.value.trim()) body.contact = contact.value.trim();
    busy = true;
    fetch("/api/suggestions", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      busy = false;
      if (r.status === 201) {
        text.value = ""; contact.value = "";
        show("s-sent");
        if (onKiosk) { clearTimeout(idleTimer); idleTimer = setTimeout(goHome, 10000); }
        return;
      }
      return r.json().then(function (data) {
        var field = data && data.detail && data.detail.field;
        error.textContent = r.status === 429 ? T.tooMany : field === "contact" ? T.badContact : field === "text" ? T.empty : T.failed;
      }, function () { error.textContent = T.failed; });
    }, function () { busy = false; error.textContent = T.failed; });
  });

  document.querySelectorAll("[data-go-home]").forEach(function (b) { b.addEventListener("click", goHome); });
  document.querySelectorAll("[data-again]").forEach(function (b) { b.addEventListener("click", function () { show("s-write"); }); });
})();
