/* Spoken help on the citizen screens, for people who cannot read the screen.
 *
 * - A button (or anything) with data-say="key" says its meaning the first time it is touched in a visit,
 *   at the touch itself (pointerdown), before the finger lifts and the button acts.
 * - KioskVoice.prompt(key) says a step's prompt after whatever is being said (a step the citizen reached).
 * - A [data-listen="key"] button says that prompt again, at once, as often as it is touched.
 * - KioskVoice.reset() ends the visit (the screen went home): the next touches speak again.
 * Clips are WAV files from the kiosk itself: /voice/<lang>/<key>.wav (a recording, else espeak-ng).
 */
(function () {
  "use strict";
  var config = window.KIOSK_VOICE;
  if (!config) return;
  var player = document.createElement("audio");
  player.hidden = true;
  player.className = "voice-player";
  player.preload = "auto";
  document.body.appendChild(player);
  var queue = [], heard = {}, warmed = {};

  function url(key) { return key.charAt(0) === "/" ? key : config.base + key + ".wav"; }

  function next() {
    var key = queue.shift();
    if (!key) { player.removeAttribute("data-key"); return; }
    player.dataset.key = key;
    player.src = url(key);
    var started = player.play();
    if (started && started.catch) started.catch(function () { next(); });
  }
  player.addEventListener("ended", next);
  player.addEventListener("error", next);

  function busy() { return !!player.dataset.key && !player.paused && !player.ended; }

  /* Say `keys` (one or a list): now, cutting off what is being said, or after it (queue = true). */
  function say(keys, after) {
    keys = [].concat(keys).filter(Boolean);
    if (!keys.length) return;
    if (after && busy()) { queue = queue.concat(keys); return; }
    queue = keys;
    player.pause();
    next();
  }

  /* Ask the kiosk for the clips of a part of the page now, so the first touch speaks without a wait. */
  function warm(root) {
    (root || document).querySelectorAll("[data-say]").forEach(function (el) {
      var key = el.dataset.say;
      if (warmed[key]) return;
      warmed[key] = true;
      fetch(url(key)).catch(function () { warmed[key] = false; });
    });
  }

  document.addEventListener("pointerdown", function (e) {
    var target = e.target && e.target.closest ? e.target : null;
    if (!target) return;
    var listen = target.closest("[data-listen]");
    if (listen) { say(listen.dataset.listen); return; }
    var el = target.closest("[data-say]");
    if (!el || el.tagName === "SECTION" || heard[el.dataset.say]) return;
    heard[el.dataset.say] = true;
    say(el.dataset.say);
  }, true);

  window.KioskVoice = {
    say: say,
    prompt: function (key) { say(key, true); },
    reset: function () { heard = {}; queue = []; player.pause(); player.removeAttribute("data-key"); },
    warm: warm
  };
})();
