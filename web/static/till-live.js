/* The till's live list of counter payments: polls every second for payments after the last
   one seen, shows each at the top and, when the cashier turned it on, announces it aloud in
   Chinese through the browser's speech synthesis ("金豆到账，10 积分"), like a payment speaker.
   Also the cashier's amount: a QR that pays it once, renewed every two minutes until paid. */
(function () {
  "use strict";
  var live = document.getElementById("till-live");
  if (!live) { return; }
  var list = document.getElementById("till-payments");
  var empty = document.getElementById("till-payments-empty");
  var speakButton = document.getElementById("till-speak");
  var POLL_MS = 1000;
  var cursor = null;
  var speak = false;
  try { speak = localStorage.getItem("jindou-till-speak") === "1"; } catch (e) { /* private mode */ }

  function label() {
    speakButton.textContent = speak ? live.dataset.textSpeakOn : live.dataset.textSpeakOff;
    speakButton.setAttribute("aria-pressed", speak ? "true" : "false");
  }
  speakButton.addEventListener("click", function () {
    speak = !speak;
    try { localStorage.setItem("jindou-till-speak", speak ? "1" : "0"); } catch (e) { /* private mode */ }
    if (speak && window.speechSynthesis) {  // a first utterance inside the tap unlocks speech
      window.speechSynthesis.speak(new SpeechSynthesisUtterance(""));
    }
    label();
  });
  label();

  function announce(points) {
    if (!speak || !window.speechSynthesis) { return; }
    var utterance = new SpeechSynthesisUtterance(live.dataset.textAnnounce.replace("{points}", points));
    utterance.lang = "zh-CN";
    window.speechSynthesis.speak(utterance);
  }

  function time(text) {
    return new Date(text).toLocaleTimeString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false});
  }

  function add(payment, fresh) {
    var item = document.createElement("li");
    item.dataset.test = "till-payment";
    item.dataset.paymentId = payment.id;
    if (fresh) { item.className = "new"; }
    var left = document.createElement("span");
    left.textContent = time(payment.created_at) + " · " + (payment.title || payment.merchant.name) +
      " · " + payment.volunteer + " · " + payment.confirmation_code;
    var right = document.createElement("span");
    right.className = "amount";
    right.textContent = "+" + payment.amount_points + " " + live.dataset.textPoints;
    item.appendChild(left);
    item.appendChild(right);
    if (payment.flags) {
      var flag = document.createElement("small");
      flag.className = "flag";
      flag.textContent = "⚑";
      left.appendChild(flag);
    }
    list.insertBefore(item, list.firstChild);
    empty.hidden = true;
  }

  function poll() {
    var url = live.dataset.paymentsUrl + (cursor === null ? "" : "?since=" + cursor);
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {payments: []}; })
      .then(function (body) {
        var first = cursor === null;
        body.payments.forEach(function (payment) {
          add(payment, !first);
          if (!first) { announce(payment.amount_points); }
        });
        if (typeof body.cursor === "number") { cursor = Math.max(cursor || 0, body.cursor); }
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }
  poll();

  var box = document.getElementById("till-charge");
  if (!box) { return; }
  var form = document.getElementById("till-charge-form");
  var amountInput = document.getElementById("till-charge-amount");
  var shown = document.getElementById("till-charge-qr");
  var image = document.getElementById("till-charge-img");
  var pointsText = document.getElementById("till-charge-points");
  var leftText = document.getElementById("till-charge-left");
  var error = document.getElementById("till-charge-error");
  var MAX_RENEWALS = 10;
  var timer = null;

  function stop() { if (timer) { clearInterval(timer); timer = null; } }

  function show(amount, renewals) {
    stop();
    error.hidden = true;
    fetch(box.dataset.chargeUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
      body: JSON.stringify({amount_points: amount, merchant_id: parseInt(box.dataset.merchant, 10)})
    }).then(function (response) { return response.json(); }).then(function (charge) {
      if (!charge.ok) {
        shown.hidden = true;
        error.hidden = false;
        error.textContent = charge.message;
        return;
      }
      image.src = charge.qr_png_url;
      image.alt = charge.url;
      shown.hidden = false;
      shown.dataset.chargeId = charge.id;
      pointsText.textContent = charge.amount_points + " " + live.dataset.textPoints;
      var ends = new Date(charge.expires_at).getTime();
      timer = setInterval(function () {
        var seconds = Math.max(0, Math.round((ends - Date.now()) / 1000));
        leftText.textContent = box.dataset.textSeconds.replace("{seconds}", seconds);
        fetch(box.dataset.chargeUrl + "/" + charge.id, {credentials: "same-origin"})
          .then(function (response) { return response.json(); }).then(function (state) {
            if (state.status === "paid") {
              stop();
              leftText.textContent = box.dataset.textPaid + " ✓";
              image.removeAttribute("src");
              shown.hidden = true;
              pointsText.textContent = "";
            } else if (state.status === "expired" || seconds === 0) {
              if (renewals < MAX_RENEWALS) { show(amount, renewals + 1); } else { stop(); shown.hidden = true; }
            }
          }).catch(function () { /* the next tick asks again */ });
      }, POLL_MS);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var amount = parseInt(amountInput.value, 10);
    if (amount >= 1) { show(amount, 0); }
  });
})();
