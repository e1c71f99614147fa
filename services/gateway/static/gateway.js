// The idle warning: five minutes before the session's idle limit a dialog offers "Stay signed in";
// at the limit the page goes to the sign-in page. Activity in one tab (a page load, an htmx request,
// staying signed in) resets the timer in every tab of this site (BroadcastChannel: nothing is
// stored). Without JavaScript the server's limits apply all the same.
(function () {
  "use strict";
  var body = document.body;
  var left = parseInt(body.getAttribute("data-seconds-left") || "0", 10);
  if (!left) { return; }
  var warnBefore = parseInt(body.getAttribute("data-warn-before") || "300", 10);
  var csrf = body.getAttribute("data-csrf-token") || "";
  var dialog = document.getElementById("idle-warning");
  var countdown = dialog && dialog.querySelector("[data-idle-countdown]");
  var form = dialog && dialog.querySelector("form[data-idle-extend]");
  var deadline = Date.now() + left * 1000;
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("wayfinder-session") : null;

  function minutes(ms) {
    var m = Math.max(1, Math.ceil(ms / 60000));
    return m === 1 ? "1 minute" : m + " minutes";
  }
  function hide() { if (dialog && !dialog.hidden) { dialog.hidden = true; } }
  function activity(at, share) {
    // The server counts the idle limit from the last request: 30 minutes.
    deadline = Math.max(deadline, at + 30 * 60 * 1000);
    hide();
    if (share && channel) { channel.postMessage({ type: "activity", at: at }); }
  }
  function tick() {
    var remaining = deadline - Date.now();
    if (remaining <= 0) { window.location.assign("/sign-in?ended=idle"); return; }
    if (dialog && remaining <= warnBefore * 1000) {
      if (countdown) { countdown.textContent = minutes(remaining); }
      if (dialog.hidden) {
        dialog.hidden = false;
        var button = dialog.querySelector("button");
        if (button) { button.focus(); }
      }
    }
  }
  if (channel) {
    channel.onmessage = function (event) {
      if (event.data && event.data.type === "activity") { activity(event.data.at, false); }
    };
    channel.postMessage({ type: "activity", at: Date.now() });
  }
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch("/session/extend", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
        .then(function (response) {
          if (response.ok) { activity(Date.now(), true); } else { window.location.assign("/sign-in?ended=idle"); }
        })
        .catch(function () { /* offline: the next tick decides */ });
    });
  }
  body.addEventListener("htmx:afterRequest", function () { activity(Date.now(), true); });
  window.setInterval(tick, 1000);
})();
