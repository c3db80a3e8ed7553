/* The citizen screen: one tap stores the rating; the detailed form is optional; the screen returns home by itself.
 *
 * Home is a clean start for the next citizen: the form, the chosen chips, the keyboard and the spoken-help
 * state are reset whenever the screen goes home, after "Done", after the confirmation, or after a while
 * without a touch (`detail_seconds`; any touch restarts the wait). After "Send" the citizen sees a
 * confirmation, never the offer to add details a second time.
 */
(function () {
  "use strict";
  var app = document.getElementById("app");
  var counter = app.dataset.counter ? parseInt(app.dataset.counter, 10) : null;
  var thanksSeconds = parseInt(app.dataset.thanks, 10) || 6;
  var idleSeconds = parseInt(app.dataset.idle, 10) || 60;
  var T = window.KIOSK_TEXT;
  var voice = window.KioskVoice || null;
  var $ = function (id) { return document.getElementById(id); };
  var steps = Array.prototype.slice.call(document.querySelectorAll(".step"));
  var questions = Array.prototype.slice.call(document.querySelectorAll(".step.question"));
  var TIMED = { "step-thanks": true, "step-sent": true };  // a countdown bar, then home
  var state = fresh();
  var timer = null;

  function fresh() { return { ratingId: null, secret: null, criteria: {}, busy: false }; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }

  function arm(id) {
    clearTimeout(timer);
    if (id === "step-home") return;
    timer = TIMED[id] ? setTimeout(home, thanksSeconds * 1000) : setTimeout(function () { leave(false); }, idleSeconds * 1000);
  }

  /* Show a step; `speak` says its prompt (a step the citizen reached by a touch). */
  function show(id, speak) {
    var section = $(id);
    steps.forEach(function (s) { s.classList.toggle("active", s === section); });
    app.dataset.step = id;
    if (TIMED[id]) {
      var bar = section.querySelector(".countdown span");
      bar.style.transition = "none"; bar.style.width = "100%";
      void bar.offsetWidth;
      bar.style.transition = "width " + thanksSeconds + "s linear"; bar.style.width = "0%";
    }
    arm(id);
    if (voice) {
      voice.warm(section);
      if (speak !== false && id !== "step-home") voice.prompt(section.dataset.say);
    }
  }

  var stale = false;  // the catalogue (wording, questions) changed: the page reloads when it is back home

  /* Back to a clean home screen for the next citizen. */
  function home() {
    if (stale) { window.location.reload(); return; }
    state = fresh();
    $("comment").value = "";
    $("vk-text").value = "";
    $("contact").value = "";
    $("detail-error").textContent = "";
    document.querySelectorAll("[data-chip]").forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
    keyboard.reset();
    if (voice) voice.reset();
    show("step-home", false);
    refreshContext();
  }

  // Any touch or key while the citizen is busy restarts the wait (the countdown steps keep theirs).
  ["pointerdown", "keydown"].forEach(function (kind) {
    document.addEventListener(kind, function () {
      var step = app.dataset.step || "step-home";
      if (!TIMED[step]) arm(step);
    }, { passive: true, capture: true });
  });

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; }); });
  }

  function refreshContext() {
    if (counter === null) return;
    fetch("/api/rating-context?counter=" + counter).then(function (r) { return r.json(); }).then(function (ctx) {
      var who = $("who");
      who.textContent = ctx.clerk ? fill(T.counterClerk, { clerk: ctx.clerk, n: counter }) : fill(T.office, { n: counter });
      who.classList.toggle("who-office", !ctx.clerk);
    }).catch(function () {});
  }

  function thanks(rating) {
    state = fresh();
    state.ratingId = rating.id;
    state.secret = rating.secret || null;  // the details secret comes only to the screen that made the rating
    $("thanks-note").textContent = "";
    $("go-detail").hidden = !state.secret;
    show("step-thanks");
  }

  document.querySelectorAll(".face-btn").forEach(function (btn) {
    btn.addEventListener("click", function () {
      if (state.busy) return;
      state.busy = true;
      btn.classList.add("pressed");
      var body = { level: btn.dataset.level, channel: "touch" };
      if (counter !== null) body.counter = counter;
      post("/api/ratings", body).then(function (res) {
        btn.classList.remove("pressed");
        state.busy = false;
        if (res.status === 201) thanks(res.data); else show("step-error");
      }).catch(function () { btn.classList.remove("pressed"); state.busy = false; show("step-error"); });
    });
  });

  function nextQuestion(current) {
    var index = questions.indexOf(current);
    if (index + 1 < questions.length) show(questions[index + 1].id); else show("step-comment");
  }

  $("go-detail").addEventListener("click", function () {
    if (!state.ratingId) { home(); return; }
    if (questions.length) show(questions[0].id); else show("step-comment");
  });
  questions.forEach(function (q) {
    q.querySelectorAll("[data-answer]").forEach(function (b) {
      b.addEventListener("click", function () { state.criteria[q.dataset.indicator] = b.dataset.answer; nextQuestion(q); });
    });
    q.querySelector("[data-skip]").addEventListener("click", function () { nextQuestion(q); });
  });
  /* The citizen stops (a button) or walks away (no touch for a while): the answers given so far are kept,
   * an unsent comment or phone number is not; a stop by button is confirmed, then home. */
  function leave(confirm) {
    if (!state.ratingId || !Object.keys(state.criteria).length) { home(); return; }
    var body = { criteria: state.criteria };
    if (state.secret) body.secret = state.secret;
    post("/api/ratings/" + state.ratingId + "/details", body).then(function (res) {
      if (confirm && res.status === 201) { state = fresh(); show("step-sent"); } else { home(); }
    }, home);
  }
  document.querySelectorAll("[data-home]").forEach(function (b) {
    b.addEventListener("click", function () { if (b.closest(".question, #step-comment")) leave(true); else home(); });
  });

  // --- the comment: quick chips, the on-screen keyboard, the phone number --------------------------------

  function chipTexts(text) { return text ? text.split("; ") : []; }
  document.querySelectorAll("[data-chip]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var box = $("comment");
      var parts = chipTexts(box.value);
      var at = parts.indexOf(chip.dataset.chip);
      if (at >= 0) parts.splice(at, 1); else parts.push(chip.dataset.chip);
      box.value = parts.join("; ");
      chip.setAttribute("aria-pressed", at >= 0 ? "false" : "true");
    });
  });

  var keyboard = window.KioskKeyboard($("vk"), $("vk-text"), {
    done: function (text) {
      $("comment").value = text.normalize("NFC");
      syncChips();
      show("step-comment", false);
    }
  });

  function syncChips() {
    var parts = chipTexts($("comment").value);
    document.querySelectorAll("[data-chip]").forEach(function (c) {
      c.setAttribute("aria-pressed", parts.indexOf(c.dataset.chip) >= 0 ? "true" : "false");
    });
  }

  $("comment").addEventListener("click", function () {
    $("vk-text").value = $("comment").value;
    show("step-type");
    $("vk-text").focus();
    keyboard.open();
  });

  document.querySelectorAll("[data-key]").forEach(function (key) {
    key.addEventListener("click", function () {
      var input = $("contact");
      input.value = key.dataset.key === "back" ? input.value.slice(0, -1) : (input.value + key.dataset.key).slice(0, 15);
      $("detail-error").textContent = "";
    });
  });

  function contactProblem(contact, detail) {
    var digits = (contact.match(/\d/g) || []).length;
    var low = T.phoneDigits[0], high = T.phoneDigits[1];
    var reason = detail ? detail.reason : (digits < low ? "too_short" : digits > high ? "too_long" : null);
    if (reason === "too_short") return fill(T.shortContact, { n: low });
    if (reason === "too_long") return fill(T.longContact, { n: high });
    return detail ? T.badContact : null;
  }

  function send() {
    var body = { criteria: state.criteria };
    var comment = $("comment").value.trim().normalize("NFC");
    var contact = $("contact").value.trim();
    if (comment) body.comment = comment;
    if (contact) body.contact = contact;
    if (state.secret) body.secret = state.secret;
    if (!state.ratingId || (!comment && !contact && !Object.keys(state.criteria).length)) { home(); return; }
    var problem = contact ? contactProblem(contact, null) : null;
    if (problem) { $("detail-error").textContent = problem; return; }
    post("/api/ratings/" + state.ratingId + "/details", body).then(function (res) {
      if (res.status === 201) { state = fresh(); show("step-sent"); return; }
      var detail = res.data && res.data.detail;
      $("detail-error").textContent = detail && detail.field === "contact" ? contactProblem(contact, detail) : T.sendFailed;
    }).catch(function () { $("detail-error").textContent = T.sendFailed; });
  }
  $("send-detail").addEventListener("click", send);

  // A press on the physical button panel of this counter thanks the citizen here too, so the panel alone is
  // enough; the rating can then be detailed on the screen. A citizen in the middle of the form is not interrupted.
  if (window.KioskLive) {
    window.KioskLive({ event: function (kind, data) {
      if (kind === "catalog_changed") {
        stale = true;
        if (!app.dataset.step || app.dataset.step === "step-home") window.location.reload();
        return;
      }
      if (kind !== "rating_recorded" || data.channel !== "button") return;
      if ((data.counter === undefined ? null : data.counter) !== counter) return;
      var step = app.dataset.step || "step-home";
      if (step !== "step-home" && step !== "step-thanks") return;
      thanks(data);  // a press carries no details secret: this screen (the panel's own) claims it first
      post("/api/ratings/" + data.id + "/claim", {}).then(function (res) {
        if (res.status === 200 && state.ratingId === data.id) { state.secret = res.data.secret; $("go-detail").hidden = false; }
      }).catch(function () {});
    } });
  }

  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  app.dataset.step = "step-home";
  if (voice) voice.warm($("step-home"));
  setInterval(function () { if (app.dataset.step === "step-home") refreshContext(); }, 5000);
})();
