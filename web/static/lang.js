/* Public screens only: back to the default language after 90 s without a touch or key, so a citizen who
 * switched to English does not leave the kiosk in English for the next one. */
(function () {
  "use strict";
  var nav = document.querySelector(".lang-switch[data-reset-url]");
  if (!nav) return;
  var IDLE_MS = 90000;
  var timer = null;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () { window.location.replace(nav.dataset.resetUrl); }, IDLE_MS);
  }
  ["pointerdown", "keydown", "touchstart"].forEach(function (kind) {
    document.addEventListener(kind, arm, { passive: true });
  });
  arm();
})();
