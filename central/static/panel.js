/* The commune's live panel (/panel/<commune>): fetch its part again every 5 s (the kiosks post their state on
 * change, so what it shows is at most a few seconds old); never reload the page. */
(function () {
  "use strict";
  var box = document.getElementById("panel"), stale = document.getElementById("panel-stale");
  if (!box) return;
  function refresh() {
    fetch(box.dataset.part, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html) { box.innerHTML = html; stale.hidden = true; } })
      .catch(function () { stale.hidden = false; });
  }
  setInterval(refresh, 5000);
})();
