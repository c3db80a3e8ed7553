/* The live panel (/admin/panel): fetch the panel's part again at each event of the kiosk's live stream (a burst
 * of events → one fetch) and every 10 s (a wait passes its threshold with no event); never reload the page. */
(function () {
  "use strict";
  var box = document.getElementById("panel"), notice = document.getElementById("panel-offline");
  if (!box) return;
  var busy = false;

  function refresh() {
    if (busy) return;
    busy = true;
    fetch(box.dataset.part, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }  // signed out
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null && html !== undefined) box.innerHTML = html; notice.hidden = true; })
      .catch(function () { notice.hidden = false; })
      .then(function () { busy = false; });
  }

  var soon = KioskLive.debounce(refresh, 300);
  KioskLive({
    open: function () { notice.hidden = true; refresh(); },
    down: function () { notice.hidden = false; },
    event: function () { soon(); }
  });
  setInterval(refresh, 10000);
})();
