/* The citizen screen: one tap stores the rating; the detailed form is optional; the screen returns home by itself. */
(function () {
  "use strict";
  var app = document.getElementById("app");
  var counter = app.dataset.counter ? parseInt(app.dataset.counter, 10) : null;
  var thanksSeconds = parseInt(app.dataset.thanks, 10) || 6;
  var idleSeconds = parseInt(app.dataset.idle, 10) || 60;
  var T = window.KIOSK_TEXT;
  var steps = Array.prototype.slice.call(document.querySelectorAll(".step"));
  var questions = Array.prototype.slice.call(document.querySelectorAll(".step.question"));
  // ratingId and secret: the details secret comes only to the screen that made the rating (never over /api/events).
  var state = { ratingId: null, secret: null, criteria: {}, busy: false };
  var goDetail = document.getElementById("go-detail");
  var timer = null;

  function show(id) {
    steps.forEach(function (s) { s.classList.toggle("active", s.id === id); });
    app.dataset.step = id;
    clearTimeout(timer);
    if (id === "step-thanks") {
      var bar = document.getElementById("countdown-bar");
      bar.style.transition = "none"; bar.style.width = "100%";
      void bar.offsetWidth;
      bar.style.transition = "width " + thanksSeconds + "s linear"; bar.style.width = "0%";
      timer = setTimeout(home, thanksSeconds * 1000);
    } else if (id !== "step-home") {
      timer = setTimeout(home, idleSeconds * 1000);
    }
  }

  function home() {
    state = { ratingId: null, secret: null, criteria: {}, busy: false };
    document.getElementById("comment").value = "";
    document.getElementById("contact").value = "";
    document.getElementById("detail-error").textContent = "";
    show("step-home");
    refreshContext();
  }

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; }); });
  }

  function refreshContext() {
    if (counter === null) return;
    fetch("/api/rating-context?counter=" + counter).then(function (r) { return r.json(); }).then(function (ctx) {
      var who = document.getElementById("who");
      who.textContent = ctx.clerk ? T.counterClerk.replace("{clerk}", ctx.clerk).replace("{n}", counter)
                                  : T.counterOnly.replace("{n}", counter);
    }).catch(function () {});
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
        if (res.status === 201) {
          state.ratingId = res.data.id;
          state.secret = res.data.secret;
          goDetail.hidden = false;
          document.getElementById("thanks-note").textContent = "";
          show("step-thanks");
        } else { show("step-error"); }
      }).catch(function () { btn.classList.remove("pressed"); state.busy = false; show("step-error"); });
    });
  });

  function nextQuestion(current) {
    var index = questions.indexOf(current);
    if (index + 1 < questions.length) show(questions[index + 1].id); else show("step-comment");
  }

  document.getElementById("go-detail").addEventListener("click", function () {
    if (questions.length) show(questions[0].id); else show("step-comment");
  });
  questions.forEach(function (q) {
    q.querySelectorAll("[data-answer]").forEach(function (b) {
      b.addEventListener("click", function () { state.criteria[q.dataset.indicator] = b.dataset.answer; nextQuestion(q); });
    });
    q.querySelector("[data-skip]").addEventListener("click", function () { nextQuestion(q); });
  });
  document.querySelectorAll("[data-home]").forEach(function (b) {
    b.addEventListener("click", function () {
      // Answers given so far are worth keeping even when the citizen stops early.
      if (state.ratingId && Object.keys(state.criteria).length && b.closest(".question")) { sendDetail(true); } else { home(); }
    });
  });
  document.querySelectorAll("[data-chip]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var box = document.getElementById("comment");
      var text = chip.dataset.chip;
      if (box.value.indexOf(text) === -1) box.value = box.value ? box.value + "; " + text : text;
      chip.classList.add("chosen");
    });
  });
  document.querySelectorAll("[data-key]").forEach(function (key) {
    key.addEventListener("click", function () {
      var input = document.getElementById("contact");
      input.value = key.dataset.key === "back" ? input.value.slice(0, -1) : (input.value + key.dataset.key).slice(0, 15);
    });
  });

  function sendDetail(quiet) {
    var body = { secret: state.secret, criteria: state.criteria };
    var comment = document.getElementById("comment").value.trim();
    var contact = document.getElementById("contact").value.trim();
    if (comment) body.comment = comment;
    if (contact) body.contact = contact;
    if (!state.ratingId || (!comment && !contact && !Object.keys(state.criteria).length)) { show("step-thanks"); return; }
    post("/api/ratings/" + state.ratingId + "/details", body).then(function (res) {
      if (res.status === 201) { state.criteria = {}; state.ratingId = null; show("step-thanks"); }
      else if (quiet) { home(); }
      else {
        var field = res.data && res.data.detail && res.data.detail.field;
        document.getElementById("detail-error").textContent = field === "contact" ? T.badContact : T.sendFailed;
      }
    }).catch(function () { if (quiet) home(); else document.getElementById("detail-error").textContent = T.sendFailed; });
  }
  document.getElementById("send-detail").addEventListener("click", function () { sendDetail(false); });
  document.querySelectorAll("#step-comment textarea, #step-comment input").forEach(function (el) {
    el.addEventListener("input", function () { show("step-comment"); });
  });

  // A press on the physical button panel of this counter thanks the citizen here too, so the panel alone is
  // enough; the rating can then be detailed on the screen. A citizen in the middle of the form is not interrupted.
  if (window.KioskLive) {
    window.KioskLive({ event: function (kind, data) {
      if (kind !== "rating_recorded" || data.channel !== "button") return;
      if ((data.counter === undefined ? null : data.counter) !== counter) return;
      var step = app.dataset.step || "step-home";
      if (step !== "step-home" && step !== "step-thanks") return;
      state = { ratingId: data.id, secret: null, criteria: {}, busy: false };
      goDetail.hidden = true;  // until this screen (the panel's own) has the press's details secret
      post("/api/ratings/" + data.id + "/claim", {}).then(function (res) {
        if (res.status === 200 && state.ratingId === data.id) { state.secret = res.data.secret; goDetail.hidden = false; }
      }).catch(function () {});
      document.getElementById("thanks-note").textContent = "";
      show("step-thanks");
    } });
  }

  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  refreshContext();
  setInterval(function () { if (app.dataset.step === "step-home" || !app.dataset.step) refreshContext(); }, 5000);
})();
