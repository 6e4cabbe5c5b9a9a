/* Paying at a counter QR (/m/<code>): pick an offer or type an amount, one tap pays. The
   payment's key comes with the page and is kept in sessionStorage while an answer is
   outstanding, so a double tap, a retry after a network failure or a reload sends the same
   Idempotency-Key and the server answers the first payment instead of paying twice.
   On the proof page (/counter/payments/<id>) it runs the live clock. */
(function () {
  "use strict";
  var clock = document.getElementById("paid-clock");
  if (clock) {
    var tick = function () {  // China time, as the payment's time above it
      clock.textContent = new Date().toLocaleTimeString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false});
    };
    tick();
    setInterval(tick, 1000);
  }
  var root = document.getElementById("counter");
  if (!root) { return; }
  var button = document.getElementById("counter-confirm");
  var result = document.getElementById("counter-result");
  var amountInput = document.getElementById("counter-amount");
  if (!button) { return; }
  var storeKey = "jindou-counter:" + root.dataset.code;
  var MAX_ATTEMPTS = 3;
  var busy = false;
  var available = root.dataset.available === "" ? null : parseInt(root.dataset.available, 10);
  var maxAmount = parseInt(root.dataset.maxAmount || "0", 10);
  var charge = root.dataset.charge ? parseInt(root.dataset.charge, 10) : null;

  function pending() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
  }
  function remember(key, body) {
    try { sessionStorage.setItem(storeKey, JSON.stringify({key: key, body: body})); } catch (e) { /* private mode */ }
  }
  function forget() {
    try { sessionStorage.removeItem(storeKey); } catch (e) { /* private mode */ }
  }

  function chosen() {
    if (charge) { return {body: {}, points: charge}; }
    var radio = root.querySelector("input[name=choice]:checked");
    if (!radio) { return null; }
    if (radio.value === "amount") {
      var points = parseInt(amountInput.value, 10);
      if (!(points >= 1 && points <= maxAmount) || String(points) !== amountInput.value.trim()) { return null; }
      return {body: {amount_points: points}, points: points};
    }
    return {body: {offer_id: parseInt(radio.value.split(":")[1], 10)}, points: parseInt(radio.dataset.points, 10)};
  }

  function refresh() {
    if (busy) { return; }
    var choice = chosen();
    if (!choice) {
      button.disabled = true;
      button.textContent = root.dataset.textChoose;
      return;
    }
    if (available !== null && choice.points > available) {
      button.disabled = true;
      button.textContent = root.dataset.textTooMuch;
      return;
    }
    button.disabled = false;
    button.textContent = root.dataset.textPay.replace("{points}", choice.points);
  }

  function show(message) {
    result.hidden = false;
    result.className = "till-result refused";
    result.textContent = "";
    var big = document.createElement("strong");
    big.textContent = "✗";
    var text = document.createElement("span");
    text.textContent = message;
    result.appendChild(big);
    result.appendChild(text);
  }

  function send(key, body, attempt) {
    return fetch(root.dataset.payUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf,
                "Idempotency-Key": key},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json();
    }).catch(function (error) {
      if (attempt + 1 < MAX_ATTEMPTS) {
        return new Promise(function (resolve) { setTimeout(resolve, 400 * (attempt + 1)); })
          .then(function () { return send(key, body, attempt + 1); });
      }
      throw error;
    });
  }

  function pay() {
    if (busy) { return; }
    var choice = chosen();
    if (!choice) { return; }
    busy = true;
    button.disabled = true;
    button.textContent = root.dataset.textPaying;
    result.hidden = true;
    var earlier = pending();
    var key = earlier && JSON.stringify(earlier.body) === JSON.stringify(choice.body) ? earlier.key : root.dataset.key;
    remember(key, choice.body);
    send(key, choice.body, 0).then(function (answer) {
      if (answer.ok) {
        forget();
        location.replace(answer.url);
        return;
      }
      forget();
      busy = false;
      show(answer.message);
      refresh();
    }).catch(function () {
      busy = false;  // the key stays remembered: the next tap asks for the same payment
      show(root.dataset.textNetwork);
      refresh();
    });
  }

  root.addEventListener("change", refresh);
  if (amountInput) {
    amountInput.addEventListener("input", function () {
      var radio = root.querySelector("input[name=choice][value=amount]");
      if (radio) { radio.checked = true; }
      refresh();
    });
  }
  button.addEventListener("click", pay);
  var only = root.querySelectorAll("input[name=choice]");
  if (only.length === 1 && only[0].value !== "amount") { only[0].checked = true; }
  refresh();
})();
