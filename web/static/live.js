/* Live updates over Server-Sent Events that survive a server restart.
 *
 * KioskLive({event: fn(kind, data), open: fn(), down: fn(), ping: fn(data)}) connects to /api/events. The browser's
 * EventSource retries by itself after a dropped line; when it gives up (an error answer while the server
 * restarts) or when no heartbeat ("ping", every 10 s) arrives for 25 s, a fresh EventSource is opened.
 * `open` runs on every (re)connection, so a page reloads its snapshot and misses nothing.
 */
(function () {
  "use strict";
  var KINDS = ["ticket_issued", "ticket_called", "ticket_completed", "ticket_no_show", "ticket_transferred", "ticket_held",
    "counter_paused", "counter_resumed", "queue_changed", "rating_recorded", "clerk_login", "clerk_logout",
    "ticket_printed", "print_failed", "printer_status", "catalog_changed", "dossier_changed", "ping"];

  window.KioskLive = function (handlers) {
    var source = null, last = Date.now(), retryTimer = null;

    function connect() {
      if (source) source.close();
      source = new EventSource("/api/events");
      source.onopen = function () {
        last = Date.now();
        document.documentElement.classList.remove("live-down");
        if (handlers.open) handlers.open();
      };
      source.onerror = function () {
        document.documentElement.classList.add("live-down");
        if (handlers.down) handlers.down();
        if (source.readyState === EventSource.CLOSED) retry();
      };
      KINDS.forEach(function (kind) {
        source.addEventListener(kind, function (e) {
          last = Date.now();
          var data = {};
          try { data = JSON.parse(e.data); } catch (err) { return; }
          if (kind === "ping") { if (handlers.ping) handlers.ping(data); return; }
          if (handlers.event) handlers.event(kind, data);
        });
      });
    }

    function retry() {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(connect, 1000);
    }

    setInterval(function () {
      if (Date.now() - last > 25000) { last = Date.now(); connect(); }
    }, 5000);
    connect();
    return { reconnect: connect };
  };

  /* Run fn at most once per `ms`, and once more after the last call (a burst of events → one refresh). */
  window.KioskLive.debounce = function (fn, ms) {
    var timer = null;
    return function () {
      if (timer) return;
      timer = setTimeout(function () { timer = null; fn(); }, ms);
    };
  };

  window.KioskLive.post = function (url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? "" : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 204) return { ok: true, status: 204, data: null };
      return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; },
                           function () { return { ok: r.ok, status: r.status, data: {} }; });
    });
  };
})();
