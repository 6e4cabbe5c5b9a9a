/* The voucher shown at a till: keep the screen awake, and turn the page into its new state
   (redeemed, cancelled, expired) as soon as the server says so. */
(function () {
  "use strict";
  var card = document.querySelector("[data-test=voucher]");
  if (!card || card.dataset.status !== "issued") { return; }
  var POLL_MS = 3000;
  var lock = null;

  function keepAwake() {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").then(function (granted) { lock = granted; })
        .catch(function () { lock = null; });
    }
  }

  function poll() {
    if (document.visibilityState !== "visible") { return; }
    fetch(card.dataset.stateUrl, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.status !== card.dataset.status) { window.location.reload(); }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  document.addEventListener("visibilitychange", keepAwake);
  keepAwake();
  setInterval(poll, POLL_MS);
})();
