// herald dashboard: swap in the live part of the page every few seconds (no full reload).
// The fragment comes from the same origin with the session cookie; a 401 means the session
// ended, so go to the login form.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) return;
  var every = parseInt(live.getAttribute("data-every"), 10) || 5000;
  var busy = false;
  function typing() {
    var a = document.activeElement;
    return a && live.contains(a) && a.tagName === "INPUT" && a.value !== "";
  }
  function tick() {
    if (busy || document.hidden || typing()) return;
    busy = true;
    fetch(live.getAttribute("data-src"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign(live.getAttribute("data-login")); return null; }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        if (html !== null) { live.innerHTML = html; live.removeAttribute("data-stale"); }
      })
      .catch(function () { live.setAttribute("data-stale", "1"); })
      .then(function () { busy = false; });
  }
  setInterval(tick, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });
})();
