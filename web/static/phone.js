/* The citizen's phone page (/t/<token>): live state of one ticket, the call, the rating.
 *
 * Written for old phone browsers (ES5, no fetch, no arrow functions, no classList on SVG): XMLHttpRequest,
 * EventSource where it exists, else the state is polled every 10 s. When the ticket is called the page
 * shows the counter in big letters, vibrates and plays a chime — where the phone allows it: browsers let a
 * page vibrate or sound only after a tap, hence the "turn on" button (a tap anywhere also arms it).
 */
(function () {
  "use strict";
  var T = window.PHONE_TEXT;
  var state = window.PHONE_STATE;
  var root = document.getElementById("phone");
  var token = root.getAttribute("data-token");
  var heartbeat = parseInt(root.getAttribute("data-heartbeat"), 10) || 15;
  var base = "/t/" + token;
  var $ = function (id) { return document.getElementById(id); };
  var audio = null, armed = false, lastCalls = state.calls || 0;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }
  function show(el, on) { if (on) el.removeAttribute("hidden"); else el.setAttribute("hidden", ""); }
  function text(id, value) { var el = $(id); if (el && el.textContent !== String(value)) el.textContent = value; }

  function render(s) {
    var before = state;
    state = s;
    text("p-number", s.number);
    text("p-service", s.fields || s.service_name);
    var words = { waiting: T.waiting, called: T.called, done: T.done, no_show: T.noShow, closed: T.closed,
                  held: T.held };
    text("p-status-text", words[s.status] || s.status);
    $("p-status").className = "p-status p-" + s.status;
    show($("p-waiting"), s.status === "waiting");
    show($("p-called"), s.status === "called");
    show($("p-noshow"), s.status === "no_show");
    show($("p-held"), s.status === "held");
    if (s.status === "held" && s.hold) {  /* giữ chỗ: why, where and until when */
      text("p-held-reason", T.holdReasons[s.hold.reason] || T.held);
      text("p-held-counter", s.counter);
      text("p-held-until", s.hold.until_hm);
    }
    show($("p-alerts"), s.status === "waiting" || s.status === "called" || s.status === "held");
    if (s.status === "waiting") {
      text("p-position", s.position || "–");
      text("p-ahead", s.ahead === null || s.ahead === undefined ? "–" : s.ahead);
      text("p-wait", s.ahead ? fill(T.wait, { n: s.wait_minutes }) : T.next);
    }
    if (s.status === "called") {
      text("p-counter-n", s.counter);
      text("p-counter-name", s.counter_name || "");
      document.title = fill(T.calledTitle, { n: s.counter });
    } else {
      document.title = fill(T.title, { number: s.number });
    }
    var rated = s.rated || !$("p-rated").hasAttribute("hidden");
    show($("p-rated"), rated);
    show($("p-rate"), s.can_rate && !rated);
    show($("p-day-over"), s.status === "done" && !s.today && !s.rated);
    var recent = document.querySelector(".p-recent");
    if (recent) show(recent, s.status !== "done" && $("p-recent").children.length > 0);
    if (s.status === "called" && (before.status !== "called" || (s.calls || 0) > lastCalls)) alert_();
    lastCalls = s.calls || 0;
  }

  /* --- the call: vibration and a two-tone chime, where the phone allows --------------------------- */
  function arm() {
    if (armed) return;
    armed = true;
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context) {
      try { audio = new Context(); tone(audio, 0, 0.01, 0.001); } catch (e) { audio = null; }
    }
    show($("p-alert-on"), false);
    show($("p-alert-state"), true);
  }
  function tone(ctx, at, length, volume) {
    var osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = at === 0 ? 880 : 660;
    gain.gain.value = volume;
    osc.connect(gain);
    gain.connect(ctx.destination);
    var start = ctx.currentTime + at;
    osc.start(start);
    osc.stop(start + length);
  }
  function alert_() {
    if (navigator.vibrate) { try { navigator.vibrate([400, 200, 400, 200, 800]); } catch (e) { /* not allowed */ } }
    if (audio) {
      try {
        if (audio.resume) audio.resume();
        tone(audio, 0, 0.35, 0.4);
        tone(audio, 0.4, 0.6, 0.4);
      } catch (e) { /* no sound on this phone */ }
    }
    root.className = "flash";
    setTimeout(function () { root.className = ""; }, 3000);
  }
  $("p-alert-on").onclick = arm;
  document.addEventListener("touchend", arm, false);
  document.addEventListener("click", arm, false);

  /* --- the public calls ------------------------------------------------------------------------------ */
  function called(data) {
    var list = $("p-recent");
    if (!list) return;
    var li = document.createElement("li");
    var strong = document.createElement("strong");
    strong.textContent = data.number;
    li.appendChild(strong);
    li.appendChild(document.createTextNode(" → " + fill(T.toCounter, { n: data.counter })));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 3) list.removeChild(list.lastChild);
    show(document.querySelector(".p-recent"), state.status !== "done");
  }

  /* --- live updates ----------------------------------------------------------------------------------- */
  function get(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      if (xhr.status === 200) { try { done(JSON.parse(xhr.responseText)); } catch (e) { /* ignore */ } }
    };
    xhr.send();
  }
  function live(on) {
    text("p-live", on ? T.live : T.offline);
    $("p-live").className = on ? "p-live" : "p-live p-down";
  }

  var source = null, lastHeard = Date.now();
  function connect() {
    if (source) source.close();
    source = new EventSource(base + "/events");
    source.onopen = function () { lastHeard = Date.now(); live(true); };
    source.onerror = function () { live(false); };
    source.addEventListener("state", function (e) {
      lastHeard = Date.now();
      try { render(JSON.parse(e.data)); } catch (err) { /* ignore */ }
    }, false);
    source.addEventListener("called", function (e) {
      lastHeard = Date.now();
      try { called(JSON.parse(e.data)); } catch (err) { /* ignore */ }
    }, false);
    source.addEventListener("ping", function () { lastHeard = Date.now(); live(true); }, false);
  }
  if (window.EventSource) {
    connect();
    setInterval(function () {  // three pings missed (a Wi-Fi hand-over, a sleeping phone): start again
      if (Date.now() - lastHeard > 3 * heartbeat * 1000) { lastHeard = Date.now(); connect(); }
    }, 5000);
  } else {
    setInterval(function () { get(base + "/state", function (s) { live(true); render(s); }); }, 10000);
  }

  /* --- the rating --------------------------------------------------------------------------------------- */
  var form = $("p-rate");
  form.onsubmit = function (e) {
    e.preventDefault();
    var level = null, criteria = {}, inputs = form.getElementsByTagName("input"), i;
    for (i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type !== "radio" || !input.checked) continue;
      if (input.name === "level") level = input.value;
      else if (input.name.indexOf("q_") === 0) criteria[input.name.slice(2)] = input.value;
    }
    if (!level) { text("p-error", T.chooseLevel); return false; }
    var contact = $("p-contact").value.replace(/^\s+|\s+$/g, "");
    if (contact && !/^\+?[0-9][0-9 .\-]*[0-9]$/.test(contact)) { text("p-error", T.badContact); return false; }
    var body = { level: level, criteria: criteria, comment: $("p-comment").value || null, contact: contact || null };
    $("p-send").disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", base + "/rating", true);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) return;
      $("p-send").disabled = false;
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = {}; }
      if (xhr.status === 201) {
        show($("p-again"), answer.counted === false);
        show($("p-rated"), true);
        if (answer.state) render(answer.state);
        show(form, false);
      } else {
        text("p-error", answer.error || T.sendFailed);
      }
    };
    xhr.send(JSON.stringify(body));
    return false;
  };

  render(state);
})();
