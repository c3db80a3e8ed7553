/* "Niêm yết" at the kiosk: back to the start ("/") after `data-idle` seconds without a touch, like the other
 * screens (a PDF in its frame counts its own touches: the page's timer restarts when the frame takes focus). */
(function () {
  "use strict";
  var app = document.getElementById("posted-app");
  if (!app) return;
  var idle = (parseInt(app.dataset.idle, 10) || 60) * 1000, timer = null;
  function goHome() { window.location.href = "/"; }
  function touched() { clearTimeout(timer); timer = setTimeout(goHome, idle); }
  ["pointerdown", "keydown", "scroll", "wheel"].forEach(function (e) { document.addEventListener(e, touched, true); });
  window.addEventListener("blur", touched);
  touched();
})();
